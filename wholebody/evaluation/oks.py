"""Object keypoint similarity (OKS), vectorised, with the xtcocotools conventions.

For a ground truth with labelled keypoints (v > 0) the OKS averages
``exp(-d^2 / (2 sigma)^2 / (area + eps) / 2)`` over those keypoints. A ground truth with none
measures the distance from each predicted keypoint to the enlarged box region
``[x - w, x + 2w] x [y - h, y + 2h]`` and averages over all keypoints. ``area`` is the ground
truth's segmentation area (``use_area``) or ``0.53 * w * h`` of its box.
"""

from __future__ import annotations

import numpy as np

EPS = np.spacing(1)


def oks_pairs(
    dt_xy: np.ndarray,
    gt_kpts: np.ndarray,
    gt_area: np.ndarray,
    gt_bbox: np.ndarray,
    sigmas: np.ndarray,
) -> np.ndarray:
    """OKS of matched-up (prediction, ground truth) pairs.

    Args:
        dt_xy: predicted keypoints ``(P, J, 2)`` pixels.
        gt_kpts: ground-truth keypoints ``(P, J, 3)`` with visibility flags in the last column.
        gt_area: ``(P,)`` area used for normalisation (pixels^2).
        gt_bbox: ``(P, 4)`` ground-truth boxes ``x, y, w, h``.
        sigmas: ``(J,)`` per-keypoint OKS sigmas.

    Returns:
        ``(P,)`` OKS values in [0, 1].
    """
    dt_xy = np.asarray(dt_xy, dtype=np.float64)
    gt_kpts = np.asarray(gt_kpts, dtype=np.float64)
    sigmas = np.asarray(sigmas, dtype=np.float64)
    num = dt_xy.shape[0]
    if dt_xy.ndim != 3 or dt_xy.shape[2] != 2 or gt_kpts.shape != (*dt_xy.shape[:2], 3):
        raise ValueError(
            f"expected dt_xy (P, J, 2) and gt_kpts (P, J, 3), got {dt_xy.shape} and {gt_kpts.shape}"
        )
    if sigmas.shape != (dt_xy.shape[1],):
        raise ValueError(f"sigmas: expected shape ({dt_xy.shape[1]},), got {sigmas.shape}")
    if num == 0:
        return np.zeros(0)
    variances = (sigmas * 2) ** 2
    labelled = gt_kpts[..., 2] > 0
    num_labelled = labelled.sum(axis=1)
    has = num_labelled > 0
    area = np.asarray(gt_area, dtype=np.float64).reshape(num)
    bbox = np.asarray(gt_bbox, dtype=np.float64).reshape(num, 4)
    # labelled ground truth: distance to each keypoint
    diff = dt_xy - gt_kpts[..., :2]
    d2 = np.einsum("pjk,pjk->pj", diff, diff)
    # no labelled keypoint: distance to the enlarged box region [x - w, x + 2w] x [y - h, y + 2h]
    if not has.all():
        b = bbox[~has]
        lo = (b[:, :2] - b[:, 2:])[:, None]
        hi = (b[:, :2] + b[:, 2:] * 2)[:, None]
        xy = dt_xy[~has]
        gap = np.maximum(0, lo - xy) + np.maximum(0, xy - hi)
        d2[~has] = (gap**2).sum(-1)
    e = d2 / variances
    e /= (area + EPS)[:, None]
    e /= 2
    np.negative(e, out=e)
    np.exp(e, out=e)
    mask = np.where(has[:, None], labelled, True)
    e *= mask
    return e.sum(axis=1) / mask.sum(axis=1)


def oks_matrix(
    dt_xy: np.ndarray,
    gt_kpts: np.ndarray,
    gt_area: np.ndarray,
    gt_bbox: np.ndarray,
    sigmas: np.ndarray,
) -> np.ndarray:
    """OKS of every prediction ``(D, J, 2)`` against every ground truth ``(G, J, 3)``.

    Returns ``(D, G)``.
    """
    dt_xy = np.asarray(dt_xy, dtype=np.float64)
    gt_kpts = np.asarray(gt_kpts, dtype=np.float64)
    d, g = dt_xy.shape[0], gt_kpts.shape[0]
    di, gi = np.meshgrid(np.arange(d), np.arange(g), indexing="ij")
    di, gi = di.reshape(-1), gi.reshape(-1)
    area = np.asarray(gt_area, dtype=np.float64).reshape(g)
    bbox = np.asarray(gt_bbox, dtype=np.float64).reshape(g, 4)
    vals = oks_pairs(dt_xy[di], gt_kpts[gi], area[gi], bbox[gi], sigmas)
    return vals.reshape(d, g)

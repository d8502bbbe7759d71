"""MMPose ``CocoMetric`` post-processing: ``bbox_keypoint`` rescoring and OKS-NMS.

Rescoring: ``score = box_score * mean(keypoint scores > 0.2)`` (0 when none passes).
OKS-NMS: per image, keep the best-scoring person and drop others whose OKS with it exceeds
``thr`` (0.9), with the OKS area the mean of the two people's areas (given, or keypoint-box).
"""

from __future__ import annotations

import numpy as np

from wholebody.evaluation.results_io import arrays_from_records, records_from_arrays
from wholebody.keypoints import COCO_WHOLEBODY


def rescore_bbox_keypoint(
    box_scores: np.ndarray, keypoint_scores: np.ndarray, threshold: float = 0.2
) -> np.ndarray:
    """``(N,)`` box scores times the mean of each person's keypoint scores above ``threshold``."""
    ks = np.asarray(keypoint_scores, dtype=np.float64)
    bs = np.asarray(box_scores, dtype=np.float64)
    if ks.ndim != 2 or bs.shape != ks.shape[:1]:
        raise ValueError(
            f"expected box_scores (N,) and keypoint_scores (N, J), got {bs.shape}, {ks.shape}"
        )
    valid = ks > threshold
    count = valid.sum(axis=1)
    mean = np.where(count > 0, np.where(valid, ks, 0.0).sum(axis=1) / np.maximum(count, 1), 0.0)
    return bs * mean


def keypoint_areas(keypoints: np.ndarray) -> np.ndarray:
    """``(N,)`` area of the box spanned by each person's keypoints ``(N, J, 2)``."""
    k = np.asarray(keypoints, dtype=np.float64)
    span = k.max(axis=1) - k.min(axis=1)
    return span[:, 0] * span[:, 1]


def oks_nms(
    keypoints: np.ndarray,
    scores: np.ndarray,
    areas: np.ndarray,
    sigmas: np.ndarray,
    threshold: float = 0.9,
) -> np.ndarray:
    """Indices kept by greedy OKS-NMS of one image's people (highest score first)."""
    k = np.asarray(keypoints, dtype=np.float64)
    n = k.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    a = np.asarray(areas, dtype=np.float64)
    variances = (np.asarray(sigmas, dtype=np.float64) * 2) ** 2
    d2 = ((k[:, None] - k[None]) ** 2).sum(-1)  # (N, N, J)
    mean_area = (a[:, None] + a[None]) / 2
    e = d2 / variances / (mean_area[..., None] + np.spacing(1)) / 2
    oks = np.exp(-e).mean(axis=-1)
    order = np.asarray(scores).argsort()[::-1]  # as MMPose (ties: later index first)
    keep = []
    while len(order):
        i = order[0]
        keep.append(i)
        rest = order[1:]
        order = rest[oks[i, rest] <= threshold]
    return np.array(keep, dtype=np.int64)


def rescore_and_nms(
    records: list[dict],
    keypoint_threshold: float = 0.2,
    nms_threshold: float | None = 0.9,
) -> list[dict]:
    """Results records rescored (``bbox_score`` if present, else ``score``, as the box score)
    and OKS-NMS-filtered per image with the 133 whole-body sigmas. The NMS area is each
    record's ``area`` when all records have one (MMPose: the crop box area), else the area of
    the box spanned by its keypoints."""
    if not records:
        return []
    arr = arrays_from_records(records)
    box = np.array([r.get("bbox_score", r["score"]) for r in records], dtype=np.float64)
    new_scores = rescore_bbox_keypoint(box, arr["scores"], keypoint_threshold)
    # MMPose uses the crop-box area (bbox_scales) when known, else the keypoints' box area
    if all("area" in r for r in records):
        areas = np.array([r["area"] for r in records], dtype=np.float64)
    else:
        areas = keypoint_areas(arr["keypoints"])
    keep_all = []
    for image_id in np.unique(arr["image_ids"]):
        idx = np.flatnonzero(arr["image_ids"] == image_id)
        if nms_threshold is None:
            keep_all.extend(idx)
            continue
        kp = arr["keypoints"][idx]
        keep = oks_nms(kp, new_scores[idx], areas[idx], COCO_WHOLEBODY.sigmas, nms_threshold)
        keep_all.extend(idx[keep])
    keep_all = np.array(sorted(keep_all), dtype=np.int64)
    out = records_from_arrays(
        arr["image_ids"][keep_all],
        arr["keypoints"][keep_all],
        arr["scores"][keep_all],
        new_scores[keep_all],
    )
    for rec, i in zip(out, keep_all, strict=True):
        rec["category_id"] = int(arr["category_ids"][i])
    return out

"""Input preparation and closed-form initialisation of global orientation and translation."""

from __future__ import annotations

import logging

import numpy as np

from wholebody.keypoints import COCO_WHOLEBODY
from wholebody.rotations import matrix_to_axis_angle

logger = logging.getLogger(__name__)

# Torso and head points used for the rigid (Kabsch) initialisation, with relative weights.
INIT_POINTS = {
    "left_shoulder": 1.0, "right_shoulder": 1.0, "left_hip": 1.0, "right_hip": 1.0,
    "nose": 0.3, "left_eye": 0.3, "right_eye": 0.3, "left_ear": 0.3, "right_ear": 0.3,
}  # fmt: skip


def prepare_targets(keypoints3d, scores) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``(T, 133, 3)`` keypoints and ``(T, 133)`` scores.

    NaN/inf keypoints get zero confidence (and a zero placeholder); NaN scores count as 0.

    Returns:
        float32 targets ``(T, 133, 3)`` and confidences ``(T, 133)`` in [0, 1].
    """
    kp = np.asarray(keypoints3d, dtype=np.float64)
    K = COCO_WHOLEBODY.num_keypoints
    if kp.ndim != 3 or kp.shape[1:] != (K, 3) or kp.shape[0] < 1:
        raise ValueError(f"keypoints3d: expected shape (T, {K}, 3) with T >= 1, got {kp.shape}")
    sc = np.asarray(scores, dtype=np.float64)
    if sc.shape != kp.shape[:2]:
        raise ValueError(f"scores: expected shape {kp.shape[:2]}, got {sc.shape}")
    sc = np.where(np.isfinite(sc), sc, 0.0)
    if np.any(sc < 0) or np.any(sc > 1):
        raise ValueError(f"scores: expected values in [0, 1], got [{sc.min()}, {sc.max()}]")
    bad = ~np.all(np.isfinite(kp), axis=-1)
    if bad.any():
        logger.info("fitting: %d NaN/inf keypoints treated as missing", int(bad.sum()))
    sc = np.where(bad, 0.0, sc)
    kp = np.where(bad[..., None], 0.0, kp)
    if np.abs(kp).max(initial=0.0) > 1e3:
        raise ValueError("keypoints3d: expected metres, got values beyond 1 km")
    return kp.astype(np.float32), sc.astype(np.float32)


def kabsch(src: np.ndarray, dst: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted rigid fit ``dst ≈ R src + c`` for ``(T, N, 3)`` points and ``(T, N)`` weights."""
    wn = w / np.maximum(w.sum(-1, keepdims=True), 1e-12)
    mu_s = np.einsum("tn,tnc->tc", wn, src)
    mu_d = np.einsum("tn,tnc->tc", wn, dst)
    H = np.einsum("tn,tna,tnb->tab", wn, src - mu_s[:, None], dst - mu_d[:, None])
    U, _, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(np.swapaxes(Vt, 1, 2) @ np.swapaxes(U, 1, 2)))
    D = np.zeros_like(H)
    D[:, 0, 0], D[:, 1, 1], D[:, 2, 2] = 1.0, 1.0, d
    R = np.swapaxes(Vt, 1, 2) @ D @ np.swapaxes(U, 1, 2)
    return R, mu_d - np.einsum("tab,tb->ta", R, mu_s)


def init_global(
    rest_keypoints: np.ndarray, root: np.ndarray, targets: np.ndarray, conf: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Global orientation ``(T, 3)`` and translation ``(T, 3)`` aligning the rest body's torso.

    Args:
        rest_keypoints: ``(133, 3)`` keypoints at zero pose (model frame).
        root: ``(3,)`` rest pelvis joint (global_orient rotates about it).
        targets, conf: prepared targets ``(T, 133, 3)`` and confidences ``(T, 133)``.

    Frames with fewer than 3 confident torso points copy the nearest frame that has them; if no
    frame has them, the orientation is the identity and the translation moves the root to the
    confidence-weighted centroid of all keypoints (or stays 0).
    """
    idx = COCO_WHOLEBODY.indices(list(INIT_POINTS))
    w = conf[:, idx] * np.array(list(INIT_POINTS.values()))
    T = targets.shape[0]
    ok = (w > 0).sum(-1) >= 3
    R = np.tile(np.eye(3), (T, 1, 1))
    c = np.zeros((T, 3))
    if ok.any():
        src = np.broadcast_to(rest_keypoints[idx], (int(ok.sum()), len(idx), 3))
        R[ok], c[ok] = kabsch(src, targets[ok][:, idx].astype(np.float64), w[ok])
        good = np.nonzero(ok)[0]
        nearest = good[np.abs(np.arange(T)[:, None] - good[None]).argmin(1)]
        R, c = R[nearest], c[nearest]
    else:
        total = conf.sum(-1, keepdims=True)
        centroid = np.einsum("tk,tkc->tc", conf, targets) / np.maximum(total, 1e-12)
        c = np.where(total > 0, centroid - rest_keypoints.mean(0), 0.0)
    # pred = R (x - root) + root + transl = R x + c  =>  transl = c + R root - root
    transl = c + np.einsum("tab,b->ta", R, root) - root
    return matrix_to_axis_angle(R), transl

"""3D pose metrics in numpy: MPJPE, P-MPJPE, N-MPJPE, MPJVE and H3WB whole-body errors.

All functions take ``(..., J, 3)`` arrays in the same unit and return the error in that unit
(multiply metres by 1000 for the usual millimetres). Per-frame functions return ``(...)``
arrays so that protocols can weight frames themselves; averaging is the caller's choice.

References:
    Protocols #1-#3 as in VideoPose3D (Pavllo et al., CVPR 2019) ``common/loss.py``;
    whole-body alignment as in H3WB (Zhu et al., ICCV 2023) ``test_leaderboard.py``.
"""

from __future__ import annotations

import numpy as np

from wholebody.keypoints import COCO_WHOLEBODY, KeypointSet


def _pair(pred, gt, name: str = "pred") -> tuple[np.ndarray, np.ndarray]:
    """Validate two ``(..., J, 3)`` arrays of equal shape; returns float64 copies."""
    p = np.asarray(pred, dtype=np.float64)
    g = np.asarray(gt, dtype=np.float64)
    if p.ndim < 2 or p.shape[-1] != 3:
        raise ValueError(f"{name}: expected shape (..., J, 3), got {p.shape}")
    if p.shape != g.shape:
        raise ValueError(f"{name} and gt: expected equal shapes, got {p.shape} and {g.shape}")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(g))):
        raise ValueError(f"{name}/gt: expected finite values, got NaN/inf")
    return p, g


def mpjpe(pred, gt) -> np.ndarray:
    """Protocol #1 per frame: mean Euclidean joint distance, ``(..., J, 3) -> (...)``."""
    p, g = _pair(pred, gt)
    return np.linalg.norm(p - g, axis=-1).mean(axis=-1)


def procrustes_align(pred, gt) -> np.ndarray:
    """Similarity-align ``pred`` to ``gt`` per frame (scale, rotation, translation).

    Umeyama/Kabsch with the reflection fix: when the optimal orthogonal matrix has
    det < 0 the last singular direction is flipped, so the result is a proper rotation.

    Returns:
        aligned prediction ``(..., J, 3)``.
    """
    p, g = _pair(pred, gt)
    mu_p = p.mean(axis=-2, keepdims=True)
    mu_g = g.mean(axis=-2, keepdims=True)
    p0, g0 = p - mu_p, g - mu_g
    norm_p = np.linalg.norm(p0, axis=(-2, -1), keepdims=True)
    norm_g = np.linalg.norm(g0, axis=(-2, -1), keepdims=True)
    # A degenerate frame (all joints equal) aligns to the gt centroid.
    norm_p = np.where(norm_p > 0, norm_p, 1.0)
    norm_g = np.where(norm_g > 0, norm_g, 1.0)
    p0, g0 = p0 / norm_p, g0 / norm_g
    h = np.swapaxes(g0, -1, -2) @ p0  # (..., 3, 3) = G^T P
    u, s, vt = np.linalg.svd(h)
    v = np.swapaxes(vt, -1, -2)
    sign = np.sign(np.linalg.det(v @ np.swapaxes(u, -1, -2)))
    sign = np.where(sign == 0, 1.0, sign)
    v[..., :, -1] *= sign[..., None]
    s[..., -1] *= sign
    rot = v @ np.swapaxes(u, -1, -2)  # (..., 3, 3): rows of p0 @ rot ~ rows of g0
    scale = s.sum(axis=-1)[..., None, None] * norm_g / norm_p
    return scale * (p - mu_p) @ rot + mu_g


def p_mpjpe(pred, gt) -> np.ndarray:
    """Protocol #2 per frame: MPJPE after similarity Procrustes alignment (no reflections)."""
    p, g = _pair(pred, gt)
    return mpjpe(procrustes_align(p, g), g)


def n_mpjpe(pred, gt) -> np.ndarray:
    """Protocol #3 per frame: MPJPE after the optimal per-frame scale s = <p, g> / <p, p>."""
    p, g = _pair(pred, gt)
    num = np.sum(p * g, axis=(-2, -1))
    den = np.sum(p * p, axis=(-2, -1))
    s = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return mpjpe(s[..., None, None] * p, g)


def mpjve(pred, gt) -> np.ndarray:
    """Velocity error per frame pair: ``(..., T, J, 3) -> (..., T - 1)``.

    Mean over joints of || (p[t+1] - p[t]) - (g[t+1] - g[t]) || in units per frame.
    """
    p, g = _pair(pred, gt)
    if p.ndim < 3 or p.shape[-3] < 2:
        raise ValueError(f"mpjve: expected shape (..., T >= 2, J, 3), got {p.shape}")
    dv = np.diff(p, axis=-3) - np.diff(g, axis=-3)
    return np.linalg.norm(dv, axis=-1).mean(axis=-1)


def _centred(x: np.ndarray, kset: KeypointSet, names: tuple[str, ...]) -> np.ndarray:
    return x - x[..., kset.indices(names), :].mean(axis=-2, keepdims=True)


def wholebody_errors(pred, gt, kset: KeypointSet = COCO_WHOLEBODY) -> dict[str, np.ndarray]:
    """H3WB-style whole-body errors per frame, ``(..., 133, 3) -> {name: (...)}``.

    - ``all``, ``body`` (body + feet), ``face``, ``hands``: joint errors after aligning both
      skeletons at the pelvis (mean of the two hips);
    - ``face_nose``: face after aligning both at the nose;
    - ``hands_wrist``: each hand after aligning both at its hand root (wrist), both hands.
    Parts and alignment joints are taken by name from ``kset``.
    """
    p, g = _pair(pred, gt)
    if p.shape[-2] != len(kset):
        raise ValueError(f"pred: expected J={len(kset)} ({kset.name}), got shape {p.shape}")
    hips = ("left_hip", "right_hip")
    err = np.linalg.norm(_centred(p, kset, hips) - _centred(g, kset, hips), axis=-1)
    parts = kset.parts
    body = np.concatenate([parts["body"], parts.get("foot", np.zeros(0, np.int64))])
    hands = np.concatenate([parts["left_hand"], parts["right_hand"]])
    out = {
        "all": err.mean(axis=-1),
        "body": err[..., body].mean(axis=-1),
        "face": err[..., parts["face"]].mean(axis=-1),
        "hands": err[..., hands].mean(axis=-1),
    }
    face = parts["face"]
    ctr = ("nose",)
    out["face_nose"] = np.linalg.norm(
        _centred(p, kset, ctr)[..., face, :] - _centred(g, kset, ctr)[..., face, :], axis=-1
    ).mean(axis=-1)
    per_hand = []
    for side in ("left", "right"):
        ix = parts[f"{side}_hand"]
        ctr = (f"{side}_hand_root",)
        d = _centred(p, kset, ctr)[..., ix, :] - _centred(g, kset, ctr)[..., ix, :]
        per_hand.append(np.linalg.norm(d, axis=-1).mean(axis=-1))
    out["hands_wrist"] = 0.5 * (per_hand[0] + per_hand[1])
    return out

"""SimCC codec as MMPose ``SimCCLabel`` (gaussian smoothing, ``normalize=False``) + flip of logits.

Coordinates are crop pixels (x right, y down). Bins: ``Wx = round(w * r)``, ``Wy = round(h * r)``.
Works on numpy arrays; ``decode_simcc`` and ``flip_simcc`` also accept torch tensors' numpy views.
"""

from __future__ import annotations

import numpy as np


def _check_pair(name: str, value, n: int = 2) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, n)
    if arr.shape != (n,) or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name}: expected {n} positive finite numbers, got {value!r}")
    return arr


def encode_simcc(
    keypoints: np.ndarray,
    visible: np.ndarray,
    input_size: tuple[int, int],
    sigma: tuple[float, float] | float,
    split_ratio: float = 2.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian SimCC labels.

    Args:
        keypoints: (N, K, 2) crop pixels.
        visible: (N, K) visibility (>= 0.5 counts as labelled; the value is the weight).
        input_size: crop (w, h).
        sigma: label sigma (x, y) in bins.
        split_ratio: bins per pixel r.

    Returns:
        target_x (N, K, Wx), target_y (N, K, Wy) float32 with peak 1 at ``round(xy * r)``, and
        weights (N, K) float32: the visibility, 0 when a labelled keypoint's 3-sigma window lies
        fully outside the bins (or it is not finite).
    """
    kpts = np.asarray(keypoints, dtype=np.float64)
    vis = np.asarray(visible, dtype=np.float64)
    if kpts.ndim != 3 or kpts.shape[-1] != 2:
        raise ValueError(f"keypoints: expected (N, K, 2), got {kpts.shape}")
    if vis.shape != kpts.shape[:2]:
        raise ValueError(f"visible: expected {kpts.shape[:2]}, got {vis.shape}")
    sig = _check_pair("sigma", sigma)
    size = _check_pair("input_size", input_size)
    r = float(split_ratio)
    wx, wy = int(np.around(size[0] * r)), int(np.around(size[1] * r))
    finite = np.all(np.isfinite(kpts), axis=-1)
    mu = np.around(np.where(finite[..., None], kpts, 0.0) * r)  # (N, K, 2) integer bins
    labelled = (vis >= 0.5) & finite
    radius = 3 * sig
    lo, hi = mu - radius, mu + radius + 1
    outside = (lo[..., 0] >= wx) | (lo[..., 1] >= wy) | (hi[..., 0] < 0) | (hi[..., 1] < 0)
    # MMPose keeps the visibility value as the weight of unlabelled (< 0.5) keypoints, whose
    # labels stay zero; labelled ones outside the bins get weight 0. Non-finite: weight 0.
    weights = np.where(finite, np.where(labelled & outside, 0.0, vis), 0.0)
    labelled &= ~outside
    bins_x = np.arange(wx, dtype=np.float64)
    bins_y = np.arange(wy, dtype=np.float64)
    target_x = np.exp(-((bins_x - mu[..., :1]) ** 2) / (2 * sig[0] ** 2))
    target_y = np.exp(-((bins_y - mu[..., 1:]) ** 2) / (2 * sig[1] ** 2))
    keep = labelled[..., None]
    target_x = np.where(keep, target_x, 0.0).astype(np.float32)
    target_y = np.where(keep, target_y, 0.0).astype(np.float32)
    return target_x, target_y, weights.astype(np.float32)


def decode_simcc(
    simcc_x: np.ndarray,
    simcc_y: np.ndarray,
    split_ratio: float = 2.0,
    score_mode: str = "min",
) -> tuple[np.ndarray, np.ndarray]:
    """Argmax decoding as MMPose ``get_simcc_maximum``.

    Args:
        simcc_x: (..., K, Wx) logits; simcc_y: (..., K, Wy).
        split_ratio: bins per pixel.
        score_mode: "min" = min(max_x, max_y) (MMPose, DWPose); "mean" = their average (rtmlib).

    Returns:
        keypoints (..., K, 2) crop pixels (bin / r; -1 / r where the score is <= 0) and
        scores (..., K) of the raw logits (not a probability; may exceed 1).
    """
    if score_mode not in ("min", "mean"):
        raise ValueError(f"score_mode must be 'min' or 'mean', got {score_mode!r}")
    sx = np.asarray(simcc_x, dtype=np.float32)
    sy = np.asarray(simcc_y, dtype=np.float32)
    if sx.ndim < 2 or sy.ndim != sx.ndim or sx.shape[:-1] != sy.shape[:-1]:
        raise ValueError(f"simcc_x/simcc_y: expected (..., K, W) pairs, got {sx.shape}, {sy.shape}")
    if sx.shape[-1] == 0 or sy.shape[-1] == 0:
        raise ValueError(f"simcc_x/simcc_y: empty bin axis, got {sx.shape}, {sy.shape}")
    locs = np.stack([sx.argmax(-1), sy.argmax(-1)], axis=-1).astype(np.float32)
    if score_mode == "min":
        scores = np.minimum(sx.max(-1), sy.max(-1))
    else:
        scores = 0.5 * (sx.max(-1) + sy.max(-1))
    scores = np.where(np.isnan(scores), 0.0, scores).astype(np.float32)
    locs[scores <= 0] = -1
    return locs / np.float32(split_ratio), scores


def flip_simcc(simcc_x, simcc_y, flip_indices):
    """Logits of a horizontally flipped crop -> logits of the unflipped crop (MMPose
    ``flip_vectors``): permute keypoints by ``flip_indices`` and reverse the x bins.

    Works for numpy arrays and torch tensors of shape (B, K, W).
    """
    idx = np.asarray(flip_indices)
    if idx.shape != (simcc_x.shape[-2],):
        raise ValueError(f"flip_indices: expected ({simcc_x.shape[-2]},), got {idx.shape}")
    fx = simcc_x[..., idx, :]
    fx = fx.flip(-1) if hasattr(fx, "flip") and not isinstance(fx, np.ndarray) else fx[..., ::-1]
    return fx, simcc_y[..., idx, :]


def simcc_visibility(
    simcc_x: np.ndarray,
    simcc_y: np.ndarray,
    sigma: tuple[float, float],
    beta: float = 150.0,
) -> np.ndarray:
    """A [0, 1] confidence (MMPose ``decode_visibility``, RTMW-384 configs): per axis the peak
    of ``softmax(logits * beta * sigma)``, then the smaller of x and y. Shapes (..., K, W)."""
    vals = []
    for logits, s in ((simcc_x, sigma[0]), (simcc_y, sigma[1])):
        z = np.asarray(logits, dtype=np.float64) * beta * s
        z = z - z.max(-1, keepdims=True)
        p = np.exp(z)
        vals.append((p / p.sum(-1, keepdims=True)).max(-1))
    return np.minimum(*vals).astype(np.float32)

"""Temporal smoothing of keypoint tracks with missing points, against pose-map flicker.

``(T, ..., C)`` points and a ``(T, ...)`` validity mask; missing points are never invented
(they stay missing) and never pull their neighbours. Savitzky-Golay (window 7, order 2, the
DWPose maintainers' advice) is a local least-squares polynomial fit; with gaps it becomes the
weighted fit over the valid frames in the window. One-Euro (Casiez et al. 2012) is causal.
"""

from __future__ import annotations

import numpy as np


def _check(points, valid) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(points, dtype=np.float64)
    m = np.asarray(valid, dtype=bool)
    if x.ndim < 2 or m.shape != x.shape[:-1]:
        raise ValueError(
            f"valid: expected shape {x.shape[:-1]} for points {x.shape}, got {m.shape}"
        )
    return x, m & np.all(np.isfinite(x), axis=-1)


def savgol_smooth(points, valid, window: int = 7, order: int = 2) -> np.ndarray:
    """Savitzky-Golay smoothing along axis 0 with missing points.

    At each valid point, fits a degree-``order`` polynomial to the valid points within
    ``window`` frames (weighted least squares) and takes its value there; with every frame
    valid this is the classic Savitzky-Golay filter (equal to ``scipy.signal.savgol_filter``
    away from the ends; at the ends the window shrinks). Too few valid neighbours for
    the order: the order drops (down to the mean). Invalid points are returned unchanged.
    """
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window: expected a positive odd number, got {window}")
    if not 0 <= order < window:
        raise ValueError(f"order: expected 0 <= order < window, got {order}")
    x, m = _check(points, valid)
    t, half = x.shape[0], window // 2
    xz = np.where(m[..., None], x, 0.0)
    moments = np.zeros((2 * order + 1,) + m.shape)
    rhs = np.zeros((order + 1,) + x.shape)
    for k in range(-half, half + 1):
        lo, hi = max(0, -k), min(t, t - k)  # frames s with s + k inside the sequence
        if lo >= hi:
            continue
        w = m[lo + k : hi + k].astype(np.float64)
        y = xz[lo + k : hi + k]
        for p in range(2 * order + 1):
            moments[p, lo:hi] += w * float(k) ** p
        for p in range(order + 1):
            rhs[p, lo:hi] += y * float(k) ** p
    out = x.copy()
    done = np.zeros(m.shape, dtype=bool)
    for q in range(order, -1, -1):  # highest order whose normal equations are well posed
        a = np.stack(
            [np.stack([moments[i + j] for j in range(q + 1)], -1) for i in range(q + 1)], -2
        )  # (..., q+1, q+1) moment (Hankel) matrices
        det = np.linalg.det(a)
        scale = np.maximum(moments[0], 1.0) ** (q + 1)
        ok = m & ~done & (np.abs(det) > 1e-9 * scale * (1 + half) ** (q * (q + 1)))
        if not ok.any():
            continue
        b = np.moveaxis(rhs[: q + 1], 0, -1)[ok]  # (K, C, q+1)
        sol = np.linalg.solve(a[ok][:, None], b[..., None])[..., 0]
        out[ok] = sol[..., 0]
        done |= ok
    return out


def one_euro_smooth(
    points,
    valid,
    fps: float = 30.0,
    min_cutoff: float = 1.0,
    beta: float = 0.05,
    d_cutoff: float = 1.0,
) -> np.ndarray:
    """One-Euro filter along axis 0 (causal). A missing point holds the filter state; the
    time step to its next valid frame grows accordingly. Invalid points are returned as is."""
    if fps <= 0 or min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
        raise ValueError("one_euro_smooth: expected fps, min_cutoff, d_cutoff > 0 and beta >= 0")
    x, m = _check(points, valid)
    out = x.copy()
    state = np.zeros(x.shape[1:])
    deriv = np.zeros(x.shape[1:])
    seen = np.zeros(m.shape[1:], dtype=bool)
    last = np.zeros(m.shape[1:])

    def alpha(cutoff, dt):
        r = 2 * np.pi * cutoff * dt
        return r / (r + 1)

    for t in range(x.shape[0]):
        v = m[t]
        first = v & ~seen
        state[first], deriv[first], last[first] = x[t][first], 0.0, t
        upd = v & seen
        if upd.any():
            dt = ((t - last[upd]) / fps)[:, None]
            d = (x[t][upd] - state[upd]) / dt
            deriv[upd] = deriv[upd] + alpha(d_cutoff, dt) * (d - deriv[upd])
            cutoff = min_cutoff + beta * np.linalg.norm(deriv[upd], axis=-1, keepdims=True)
            state[upd] = state[upd] + alpha(cutoff, dt) * (x[t][upd] - state[upd])
            last[upd] = t
        seen |= v
        out[t][v] = state[v]
    return out


SMOOTHERS = {"savgol": savgol_smooth, "one_euro": one_euro_smooth}


def track_people(keypoints, scores, threshold: float = 0.3) -> np.ndarray:
    """Per-frame person order ``(T, N)`` that keeps identities: frame t's people are matched
    to each slot's last seen pose (mean distance over points valid in both, Hungarian
    assignment). Detectors list people in arbitrary order; smoothing needs tracks.
    Use ``np.take_along_axis(x, order[..., None, None], axis=1)`` to reorder."""
    from scipy.optimize import linear_sum_assignment

    kp = np.asarray(keypoints, dtype=np.float64)
    sc = np.asarray(scores)
    if kp.ndim != 4 or sc.shape != kp.shape[:-1]:
        raise ValueError(
            f"expected keypoints (T, N, J, 2) and scores (T, N, J), got {kp.shape}, {sc.shape}"
        )
    T, N = kp.shape[:2]
    order = np.tile(np.arange(N), (T, 1))
    valid = (sc >= threshold) & np.all(np.isfinite(kp), axis=-1)
    last = kp[0].copy()
    last_ok = valid[0].copy()
    for t in range(1, T):
        both = last_ok[:, None, :] & valid[t][None, :, :]  # (slot, person, J)
        dist = np.linalg.norm(last[:, None] - np.nan_to_num(kp[t])[None], axis=-1)
        count = both.sum(-1)
        cost = np.where(count > 0, (dist * both).sum(-1) / np.maximum(count, 1), 1e6)
        slots, people = linear_sum_assignment(cost)
        order[t, slots] = people
        cur_kp, cur_ok = kp[t][order[t]], valid[t][order[t]]
        last = np.where(cur_ok[..., None], cur_kp, last)
        last_ok |= cur_ok
    return order


def smooth_keypoints(
    keypoints, scores, method: str = "savgol", threshold: float = 0.3, **kwargs
) -> np.ndarray:
    """Smooth ``(T, N, J, 2)`` keypoints (people tracked: index n is one person) where the
    ``(T, N, J)`` score is >= ``threshold``; scores are not changed. ``method``: ``"savgol"``,
    ``"one_euro"`` or ``"none"``."""
    kp = np.asarray(keypoints)
    if method == "none":
        return kp
    if method not in SMOOTHERS:
        raise ValueError(f"smoothing: expected one of {['none', *SMOOTHERS]}, got {method!r}")
    sc = np.asarray(scores)
    if kp.ndim != 4 or sc.shape != kp.shape[:-1]:
        raise ValueError(
            f"expected keypoints (T, N, J, 2) and scores (T, N, J), got {kp.shape}, {sc.shape}"
        )
    out = SMOOTHERS[method](kp, sc >= threshold, **kwargs)
    return out.astype(kp.dtype if kp.dtype.kind == "f" else np.float64)

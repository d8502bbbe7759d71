"""Temporal smoothness of keypoint trajectories: exact velocity and acceleration terms (numpy).

    E = w_v Σ_s Σ_k m_sk |p_s,k - p_s-1,k|² + w_a Σ_s Σ_k m'_sk |p_s+1,k - 2 p_s,k + p_s-1,k|²

(``m`` = 1 where the keypoint is observed in any frame of that term, else 0). As a function of
one frame's keypoints with the other frames fixed, E is ``Σ_k W_tk |p_tk - c_tk|² + const``
(``local_quadratic``). Updating all frames at once against those targets (Jacobi) diverges where
the smoothness outweighs the data (the acceleration operator is not diagonally dominant), so the
solver minimises a separable majoriser instead (``smoothness_pull``): with ``D ⪰ L`` the
Gershgorin diagonal of E's Hessian, ``E(P) <= E(P0) + ∇E·(P - P0) + Σ_t D_t |p_t - p0_t|²``,
i.e. a pull of weight ``D_t`` towards ``p0_t - ∇_t E / (2 D_t)``. Every accepted per-frame step
lowers the majoriser, hence the exact total objective (majorise-minimise). Weights are given at
30 frames/s and scaled to the sequence's rate so that the same physical velocity (×(fps/30)²)
and acceleration (×(fps/30)⁴) cost the same.
"""

from __future__ import annotations

import numpy as np

REFERENCE_FPS = 30.0


def rate_scaled(velocity: float, acceleration: float, fps: float) -> tuple[float, float]:
    """Weights at 30 frames/s -> weights per frame difference at ``fps``."""
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps: expected a positive frame rate, got {fps}")
    s = fps / REFERENCE_FPS
    return velocity * s**2, acceleration * s**4


def _term_masks(seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(T-1, K)`` velocity and ``(T-2, K)`` acceleration masks from ``seen (T, K)``."""
    mv = seen[1:] | seen[:-1]
    ma = seen[:-2] | seen[1:-1] | seen[2:]
    return mv.astype(np.float32), ma.astype(np.float32)


def local_quadratic(
    p: np.ndarray, seen: np.ndarray, velocity: float, acceleration: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact per-frame targets ``c (T, K, 3)``, weights ``W (T, K)`` and Gershgorin weights
    ``D (T, K)`` (see module docstring).

    Args:
        p: ``(T, K, 3)`` current keypoints; seen: ``(T, K)`` bool, keypoint observed.
        velocity, acceleration: weights per frame difference (``rate_scaled``).
    """
    T = p.shape[0]
    W = np.zeros(p.shape[:2], np.float64)
    D = np.zeros_like(W)
    Wc = np.zeros(p.shape, np.float64)
    mv, ma = _term_masks(seen)
    if T >= 2 and velocity > 0:
        wv = velocity * mv[..., None]  # coefficients (-1, 1): |c| Σ|c| = 2
        W[1:] += wv[..., 0]
        Wc[1:] += wv * p[:-1]
        W[:-1] += wv[..., 0]
        Wc[:-1] += wv * p[1:]
        D[1:] += 2 * wv[..., 0]
        D[:-1] += 2 * wv[..., 0]
    if T >= 3 and acceleration > 0:
        wa = acceleration * ma[..., None]  # centred on s = 1..T-2
        W[:-2] += wa[..., 0]  # frame s-1: |p - (2 p_s - p_s+1)|²
        Wc[:-2] += wa * (2 * p[1:-1] - p[2:])
        W[1:-1] += 4 * wa[..., 0]  # frame s: 4 |p - (p_s-1 + p_s+1) / 2|²
        Wc[1:-1] += 2 * wa * (p[:-2] + p[2:])
        W[2:] += wa[..., 0]  # frame s+1: |p - (2 p_s - p_s-1)|²
        Wc[2:] += wa * (2 * p[1:-1] - p[:-2])
        D[:-2] += 4 * wa[..., 0]  # coefficients (1, -2, 1): |c| Σ|c| = 4, 8, 4
        D[1:-1] += 8 * wa[..., 0]
        D[2:] += 4 * wa[..., 0]
    c = np.where(W[..., None] > 0, Wc / np.maximum(W, 1e-30)[..., None], p)
    return c, W, D


def smoothness_pull(
    p: np.ndarray, seen: np.ndarray, velocity: float, acceleration: float
) -> tuple[np.ndarray, np.ndarray]:
    """Majoriser pull targets ``(T, K, 3)`` and weights ``D (T, K)`` at the current ``p``:
    ``p - (W / D)(p - c)`` with the exact local quadratic ``(c, W)``."""
    c, W, D = local_quadratic(p, seen, velocity, acceleration)
    target = p - (W / np.maximum(D, 1e-30))[..., None] * (p - c)
    return target.astype(np.float32), D.astype(np.float32)


def smoothness_energy(p: np.ndarray, seen: np.ndarray, velocity: float, acceleration: float):
    """The total ``E`` of the module docstring (same units as ``p``)."""
    if p.shape[0] < 2:
        return 0.0
    mv, ma = _term_masks(seen)
    e = velocity * float(np.sum(mv * np.sum(np.square(p[1:] - p[:-1]), -1)))
    if p.shape[0] >= 3:
        acc = p[2:] - 2 * p[1:-1] + p[:-2]
        e += acceleration * float(np.sum(ma * np.sum(np.square(acc), -1)))
    return e

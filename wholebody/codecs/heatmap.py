"""Gaussian heatmap codec (MMPose ``MSRAHeatmap``) with DARK decoding (``unbiased=True``).

Heatmaps are 1/stride of the crop (e.g. 48x64 for a 192x256 crop). Pure numpy + scipy.

References:
    Zhang et al., "Distribution-Aware Coordinate Representation for Human Pose Estimation"
    (DARK), CVPR 2020.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import convolve1d


def encode_heatmap(
    keypoints: np.ndarray,
    visible: np.ndarray,
    input_size: tuple[int, int],
    heatmap_size: tuple[int, int],
    sigma: float = 2.0,
    unbiased: bool = True,
    udp: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian targets (N, K, h, w) float32 and weights (N, K).

    ``unbiased=True`` (DARK) centres the Gaussian at the sub-pixel location ``xy / stride``;
    otherwise at the integer ``int(xy / stride + 0.5)`` as the MSRA codec. ``udp=True``
    (``UDPHeatmap``): stride ``(input - 1) / (heatmap - 1)``, sub-pixel centre, Gaussian cut to
    the 3-sigma square around the rounded centre. Weight 0 for unlabelled keypoints and when
    the 3-sigma window lies outside the heatmap.
    """
    kpts = np.asarray(keypoints, dtype=np.float64)
    vis = np.asarray(visible, dtype=np.float64)
    if kpts.ndim != 3 or kpts.shape[-1] != 2 or vis.shape != kpts.shape[:2]:
        raise ValueError(
            f"expected keypoints (N, K, 2) and visible (N, K), got {kpts.shape}, {vis.shape}"
        )
    w, h = heatmap_size
    size_in = np.asarray(input_size, dtype=np.float64)
    size_hm = np.asarray(heatmap_size, dtype=np.float64)
    stride = (size_in - 1) / (size_hm - 1) if udp else size_in / size_hm
    finite = np.all(np.isfinite(kpts), axis=-1)
    mu = np.where(finite[..., None], kpts, 0.0) / stride
    if not unbiased and not udp:
        mu = np.floor(mu + 0.5)
    radius = 3 * sigma
    centre = np.floor(mu + 0.5) if udp else mu
    lo, hi = centre - radius, centre + radius + 1
    outside = (lo[..., 0] >= w) | (lo[..., 1] >= h) | (hi[..., 0] < 0) | (hi[..., 1] < 0)
    weights = np.where((vis > 0.5) & finite & ~outside, vis, 0.0)
    gx = np.exp(-((np.arange(w) - mu[..., :1]) ** 2) / (2 * sigma**2))  # (N, K, w)
    gy = np.exp(-((np.arange(h) - mu[..., 1:]) ** 2) / (2 * sigma**2))  # (N, K, h)
    heatmaps = gy[..., :, None] * gx[..., None, :]
    if udp or not unbiased:  # MSRA / UDP: Gaussian cut to the 3-sigma square
        heatmaps = heatmaps * (np.abs(np.arange(w) - centre[..., :1]) <= radius)[..., None, :]
        heatmaps = heatmaps * (np.abs(np.arange(h) - centre[..., 1:]) <= radius)[..., :, None]
    heatmaps = np.where((weights > 0)[..., None, None], heatmaps, 0.0)
    return heatmaps.astype(np.float32), weights.astype(np.float32)


def gaussian_blur(heatmaps: np.ndarray, kernel_size: int = 11) -> np.ndarray:
    """Zero-padded Gaussian blur of (..., h, w) maps, sigma as OpenCV's for ``kernel_size``,
    rescaled so each map keeps its original maximum (MMPose ``gaussian_blur``)."""
    sigma = 0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8
    r = (kernel_size - 1) // 2
    k = np.exp(-((np.arange(-r, r + 1)) ** 2) / (2 * sigma**2))
    k /= k.sum()
    hm = np.asarray(heatmaps, dtype=np.float64)
    peak = hm.max(axis=(-2, -1), keepdims=True)
    out = convolve1d(convolve1d(hm, k, axis=-1, mode="constant"), k, axis=-2, mode="constant")
    out_peak = out.max(axis=(-2, -1), keepdims=True)
    return out * np.where(out_peak > 0, peak / np.where(out_peak > 0, out_peak, 1), 1.0)


def refine_dark(keypoints: np.ndarray, heatmaps: np.ndarray, kernel_size: int = 11) -> np.ndarray:
    """DARK: blur, log, second-order Taylor step ``-H^-1 grad`` at the integer maxima.

    Args:
        keypoints: (N, K, 2) integer argmax locations in heatmap pixels.
        heatmaps: (N, K, h, w).
    """
    kpts = np.asarray(keypoints, dtype=np.float64).copy()
    hm = np.log(np.maximum(gaussian_blur(heatmaps, kernel_size), 1e-10))
    n, k, h, w = hm.shape
    x = kpts[..., 0].astype(np.int64)
    y = kpts[..., 1].astype(np.int64)
    ok = (x > 1) & (x < w - 2) & (y > 1) & (y < h - 2)
    xs, ys = np.clip(x, 2, w - 3), np.clip(y, 2, h - 3)
    ni, ki = np.meshgrid(np.arange(n), np.arange(k), indexing="ij")

    def at(dy: int, dx: int) -> np.ndarray:
        return hm[ni, ki, ys + dy, xs + dx]

    dx = 0.5 * (at(0, 1) - at(0, -1))
    dy = 0.5 * (at(1, 0) - at(-1, 0))
    dxx = 0.25 * (at(0, 2) - 2 * at(0, 0) + at(0, -2))
    dxy = 0.25 * (at(1, 1) - at(-1, 1) - at(1, -1) + at(-1, -1))
    dyy = 0.25 * (at(2, 0) - 2 * at(0, 0) + at(-2, 0))
    det = dxx * dyy - dxy**2
    ok &= det != 0
    safe = np.where(ok, det, 1.0)
    off_x = -(dyy * dx - dxy * dy) / safe
    off_y = -(-dxy * dx + dxx * dy) / safe
    kpts[..., 0] += np.where(ok, off_x, 0.0)
    kpts[..., 1] += np.where(ok, off_y, 0.0)
    return kpts


def refine_dark_udp(keypoints: np.ndarray, heatmaps: np.ndarray, kernel_size: int = 11):
    """DARK-UDP (MMPose ``refine_keypoints_dark_udp``): blur, clip to [1e-3, 50], log,
    edge-padded finite differences, Newton step with a regularised Hessian inverse."""
    kpts = np.asarray(keypoints, dtype=np.float64).copy()
    hm = np.log(np.clip(gaussian_blur(heatmaps, kernel_size), 1e-3, 50.0))
    n, k, h, w = hm.shape
    pad = np.pad(hm, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
    x = kpts[..., 0].astype(np.int64) + 1
    y = kpts[..., 1].astype(np.int64) + 1
    ni, ki = np.meshgrid(np.arange(n), np.arange(k), indexing="ij")

    def at(dy: int, dx: int) -> np.ndarray:
        return pad[ni, ki, np.clip(y + dy, 0, h + 1), np.clip(x + dx, 0, w + 1)]

    i0 = at(0, 0)
    dx = 0.5 * (at(0, 1) - at(0, -1))
    dy = 0.5 * (at(1, 0) - at(-1, 0))
    dxx = at(0, 1) - 2 * i0 + at(0, -1)
    dyy = at(1, 0) - 2 * i0 + at(-1, 0)
    dxy = 0.5 * (at(1, 1) - at(0, 1) - at(1, 0) + 2 * i0 - at(0, -1) - at(-1, 0) + at(-1, -1))
    hess = np.stack([np.stack([dxx, dxy], -1), np.stack([dxy, dyy], -1)], -2)
    hinv = np.linalg.inv(hess + np.finfo(np.float32).eps * np.eye(2))
    kpts -= np.einsum("nkij,nkj->nki", hinv, np.stack([dx, dy], -1))
    return kpts


def decode_heatmap(
    heatmaps: np.ndarray,
    input_size: tuple[int, int],
    dark: bool = True,
    kernel_size: int = 11,
    udp: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Heatmaps (N, K, h, w) -> keypoints (N, K, 2) crop pixels and scores (N, K) = map maxima.

    ``dark=True``: DARK refinement; otherwise the MSRA quarter-pixel shift toward the higher
    neighbour. ``udp=True``: DARK-UDP refinement and scaling by ``input / (heatmap - 1)`` (UDP
    crop pixels, as MMPose; back-project with the usual ``kpt / input * scale`` formula).
    Keypoints with a maximum <= 0 get location -1 (in heatmap pixels, then scaled).
    """
    hm = np.asarray(heatmaps, dtype=np.float32)
    if hm.ndim != 4 or hm.shape[-1] < 1 or hm.shape[-2] < 1:
        raise ValueError(f"heatmaps: expected (N, K, h, w), got {hm.shape}")
    n, k, h, w = hm.shape
    flat = hm.reshape(n, k, -1)
    idx = flat.argmax(-1)
    scores = flat.max(-1)
    kpts = np.stack([idx % w, idx // w], axis=-1).astype(np.float64)
    if udp:
        kpts = refine_dark_udp(kpts, hm, kernel_size)
        kpts[scores <= 0] = -1
        scale = np.asarray(input_size, dtype=np.float64) / np.array([w - 1, h - 1], np.float64)
        return (kpts * scale).astype(np.float32), scores.astype(np.float32)
    if dark:
        kpts = refine_dark(kpts, hm, kernel_size)
    else:
        x, y = kpts[..., 0].astype(int), kpts[..., 1].astype(int)
        ni, ki = np.meshgrid(np.arange(n), np.arange(k), indexing="ij")
        xm, xp = np.clip(x - 1, 0, w - 1), np.clip(x + 1, 0, w - 1)
        ym, yp = np.clip(y - 1, 0, h - 1), np.clip(y + 1, 0, h - 1)
        inner_x = (x > 0) & (x < w - 1)
        inner_y = (y > 0) & (y < h - 1)
        kpts[..., 0] += np.where(inner_x, 0.25 * np.sign(hm[ni, ki, y, xp] - hm[ni, ki, y, xm]), 0)
        kpts[..., 1] += np.where(inner_y, 0.25 * np.sign(hm[ni, ki, yp, x] - hm[ni, ki, ym, x]), 0)
    kpts[scores <= 0] = -1
    stride = np.asarray(input_size, dtype=np.float64) / np.array([w, h], dtype=np.float64)
    return (kpts * stride).astype(np.float32), scores.astype(np.float32)


def flip_heatmap(heatmaps, flip_indices):
    """Heatmaps of a flipped crop -> unflipped: permute keypoints and reverse the x axis."""
    idx = np.asarray(flip_indices)
    hm = heatmaps[..., idx, :, :]
    return hm[..., ::-1] if isinstance(hm, np.ndarray) else hm.flip(-1)

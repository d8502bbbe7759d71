"""Top-down affine crops (MMPose conventions, numpy only).

Boxes are ``xyxy`` original-image pixels. ``center``/``scale`` (N, 2) describe the crop region
in image pixels: ``scale = box size * padding`` enlarged to the model aspect ratio (never cut).
The warp maps the region centre to the crop centre ``(w/2, h/2)`` with one isotropic scale and an
optional rotation (degrees, MMPose sign). Bilinear sampling with a zero border like
``cv2.warpAffine(INTER_LINEAR, BORDER_CONSTANT)``.
"""

from __future__ import annotations

import numpy as np


def check_boxes(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) float64 xyxy boxes; ValueError for other shapes."""
    b = np.asarray(boxes, dtype=np.float64)
    if b.ndim == 1 and b.shape == (4,):
        b = b[None]
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"boxes: expected (N, 4) xyxy, got shape {b.shape}")
    return b


def box_to_center_scale(boxes: np.ndarray, padding: float = 1.25) -> tuple[np.ndarray, np.ndarray]:
    """xyxy boxes (N, 4) -> center (N, 2) and scale (N, 2) = (w, h) * padding."""
    b = check_boxes(boxes)
    center = 0.5 * (b[:, :2] + b[:, 2:])
    scale = (b[:, 2:] - b[:, :2]) * padding
    return center, scale


def fix_aspect_ratio(scale: np.ndarray, aspect_ratio: float) -> np.ndarray:
    """Enlarge (w, h) to ``w / h == aspect_ratio`` (MMPose ``_fix_aspect_ratio``; never shrinks)."""
    s = np.asarray(scale, dtype=np.float64)
    w, h = s[..., 0], s[..., 1]
    wide = w > h * aspect_ratio
    return np.stack([np.where(wide, w, h * aspect_ratio), np.where(wide, w / aspect_ratio, h)], -1)


def get_warp_matrix(
    center: np.ndarray,
    scale: np.ndarray,
    output_size: tuple[int, int],
    rot: np.ndarray | float = 0.0,
    shift: tuple[float, float] = (0.0, 0.0),
    inv: bool = False,
) -> np.ndarray:
    """Affine (N, 2, 3) image -> crop (``inv=True``: crop -> image), as MMPose ``get_warp_matrix``.

    The crop scale is ``output_w / scale_w`` for both axes (aspect already fixed); ``rot`` in
    degrees rotates the source region counter-clockwise in MMPose's convention; ``shift`` moves
    the centre by ``shift * scale``.
    """
    c = np.atleast_2d(np.asarray(center, dtype=np.float64))
    s = np.atleast_2d(np.asarray(scale, dtype=np.float64))
    n = c.shape[0]
    theta = np.deg2rad(np.broadcast_to(np.asarray(rot, dtype=np.float64), (n,)))
    k = output_size[0] / s[:, 0]  # (N,)
    cos, sin = np.cos(theta), np.sin(theta)
    src_c = c + s * np.asarray(shift, dtype=np.float64)
    dst_c = np.array([output_size[0] * 0.5, output_size[1] * 0.5])
    a = np.empty((n, 2, 2))
    a[:, 0, 0], a[:, 0, 1] = k * cos, k * sin
    a[:, 1, 0], a[:, 1, 1] = -k * sin, k * cos
    if inv:
        ainv = np.transpose(a, (0, 2, 1)) / (k**2)[:, None, None]
        t = src_c - np.einsum("nij,j->ni", ainv, dst_c)
        return np.concatenate([ainv, t[:, :, None]], axis=2)
    t = dst_c - np.einsum("nij,nj->ni", a, src_c)
    return np.concatenate([a, t[:, :, None]], axis=2)


def get_udp_warp_matrix(
    center: np.ndarray,
    scale: np.ndarray,
    output_size: tuple[int, int],
    rot: np.ndarray | float = 0.0,
) -> np.ndarray:
    """UDP affine (N, 2, 3) image -> crop (MMPose ``get_udp_warp_matrix``, unbiased data
    processing): the region's edges map to pixel centres 0 and ``size - 1``, scale
    ``(size - 1) / scale`` per axis. Used by the UDP heatmap models."""
    c = np.atleast_2d(np.asarray(center, dtype=np.float64))
    s = np.atleast_2d(np.asarray(scale, dtype=np.float64))
    n = c.shape[0]
    theta = np.deg2rad(np.broadcast_to(np.asarray(rot, dtype=np.float64), (n,)))
    cos, sin = np.cos(theta), np.sin(theta)
    sx = (output_size[0] - 1) / s[:, 0]
    sy = (output_size[1] - 1) / s[:, 1]
    m = np.zeros((n, 2, 3))
    m[:, 0, 0], m[:, 0, 1] = cos * sx, -sin * sx
    m[:, 0, 2] = sx * (-c[:, 0] * cos + c[:, 1] * sin + 0.5 * s[:, 0])
    m[:, 1, 0], m[:, 1, 1] = sin * sy, cos * sy
    m[:, 1, 2] = sy * (-c[:, 0] * sin - c[:, 1] * cos + 0.5 * s[:, 1])
    return m


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply affine (N, 2, 3) to points (N, K, 2)."""
    p = np.asarray(points, dtype=np.float64)
    m = np.asarray(matrix, dtype=np.float64)
    return np.einsum("nij,nkj->nki", m[:, :, :2], p) + m[:, None, :, 2]


def _axis_weights(coord: np.ndarray, size: int) -> tuple[np.ndarray, ...]:
    """Bilinear taps along one axis: indices (clipped) and weights (0 outside the image)."""
    lo = np.floor(coord)
    frac = coord - lo
    i0, i1 = lo.astype(np.int64), lo.astype(np.int64) + 1
    w0 = np.where((i0 >= 0) & (i0 < size), 1.0 - frac, 0.0)
    w1 = np.where((i1 >= 0) & (i1 < size), frac, 0.0)
    return np.clip(i0, 0, size - 1), np.clip(i1, 0, size - 1), w0, w1


def warp_affine(image: np.ndarray, matrix: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
    """Bilinear warp of one image (H, W, C) by an image->crop affine (2, 3); float32 (h, w, C)."""
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f"image: expected non-empty (H, W, C), got {img.shape}")
    m = np.asarray(matrix, dtype=np.float64).reshape(1, 2, 3)
    w, h = output_size
    a = m[0, :, :2]
    if a[0, 1] == 0 and a[1, 0] == 0:  # axis-aligned: separable interpolation
        inv = get_inverse(m)[0]
        xs = inv[0, 0] * np.arange(w) + inv[0, 2]
        ys = inv[1, 1] * np.arange(h) + inv[1, 2]
        return _warp_separable(img, xs, ys)
    inv = get_inverse(m)[0]
    u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    sx = inv[0, 0] * u + inv[0, 1] * v + inv[0, 2]
    sy = inv[1, 0] * u + inv[1, 1] * v + inv[1, 2]
    hh, ww = img.shape[:2]
    x0, x1, wx0, wx1 = _axis_weights(sx, ww)
    y0, y1, wy0, wy1 = _axis_weights(sy, hh)
    src = img.astype(np.float32)
    out = (
        src[y0, x0] * (wy0 * wx0)[..., None]
        + src[y0, x1] * (wy0 * wx1)[..., None]
        + src[y1, x0] * (wy1 * wx0)[..., None]
        + src[y1, x1] * (wy1 * wx1)[..., None]
    )
    return out.astype(np.float32)


def _warp_separable(img: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    hh, ww = img.shape[:2]
    y0, y1, wy0, wy1 = _axis_weights(ys, hh)
    x0, x1, wx0, wx1 = _axis_weights(xs, ww)
    rows = img[y0].astype(np.float32) * wy0[:, None, None].astype(np.float32)
    rows += img[y1].astype(np.float32) * wy1[:, None, None].astype(np.float32)
    out = rows[:, x0] * wx0[None, :, None].astype(np.float32)
    out += rows[:, x1] * wx1[None, :, None].astype(np.float32)
    return out


def get_inverse(matrix: np.ndarray) -> np.ndarray:
    """Inverse of affine maps (N, 2, 3)."""
    m = np.asarray(matrix, dtype=np.float64)
    a = m[:, :, :2]
    ainv = np.linalg.inv(a)
    t = -np.einsum("nij,nj->ni", ainv, m[:, :, 2])
    return np.concatenate([ainv, t[:, :, None]], axis=2)


def crop_regions(
    image: np.ndarray,
    center: np.ndarray,
    scale: np.ndarray,
    output_size: tuple[int, int],
    rot: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Warp N regions of one image to crops (N, h, w, C) float32 (0-255 if the image is uint8)."""
    mats = get_warp_matrix(center, scale, output_size, rot)
    w, h = output_size
    img = np.asarray(image)
    out = np.zeros((mats.shape[0], h, w, img.shape[2] if img.ndim == 3 else 1), np.float32)
    for i, m in enumerate(mats):
        out[i] = warp_affine(img, m, output_size)
    return out


def warp_to_crop(
    image: np.ndarray,
    boxes: np.ndarray,
    output_size: tuple[int, int],
    padding: float = 1.25,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes -> crops (N, h, w, C) float32 with center (N, 2) and scale (N, 2) (aspect fixed)."""
    center, scale = box_to_center_scale(boxes, padding)
    scale = fix_aspect_ratio(scale, output_size[0] / output_size[1])
    return crop_regions(image, center, scale, output_size), center, scale


def warp_from_crop(
    keypoints: np.ndarray,
    center: np.ndarray,
    scale: np.ndarray,
    output_size: tuple[int, int],
    rot: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Crop pixels (N, K, 2) -> image pixels (``kpt / size * scale + center - scale / 2`` at
    rot 0, the inverse warp otherwise)."""
    kpts = np.asarray(keypoints, dtype=np.float64)
    if np.all(np.asarray(rot) == 0):
        c = np.asarray(center, dtype=np.float64)[:, None, :]
        s = np.asarray(scale, dtype=np.float64)[:, None, :]
        return kpts / np.asarray(output_size, dtype=np.float64) * s + c - 0.5 * s
    return transform_points(kpts, get_warp_matrix(center, scale, output_size, rot, inv=True))

"""Canvas sizes of the ControlNet annotators and map resizing.

ControlNet's ``resize_image(img, resolution)`` scales the short side to ``resolution`` and
rounds both sides to the nearest multiple of 64 (aspect slightly distorted); diffusers needs
multiples of 8. Keypoints move with the image: OpenCV's resize maps pixel centres, so
``x' = (x + 0.5) * W' / W - 0.5``.
"""

from __future__ import annotations

import numpy as np


def _size(height, width, name: str = "image_size") -> tuple[int, int]:
    try:
        h, w = int(height), int(width)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name}: expected integers (height, width), got {height!r}, {width!r}"
        ) from None
    if h != height or w != width or h <= 0 or w <= 0:
        raise ValueError(
            f"{name}: expected positive integers (height, width), got {height}, {width}"
        )
    return h, w


def controlnet_size(height: int, width: int, resolution: int) -> tuple[int, int]:
    """``(H, W)`` that ControlNet's ``resize_image`` gives: short side -> resolution, sides
    rounded to the nearest multiple of 64 (float steps as the reference, so ties match)."""
    h, w = _size(height, width)
    if not resolution or resolution <= 0:
        raise ValueError(f"resolution: expected a positive number, got {resolution}")
    k = float(resolution) / min(float(h), float(w))
    hh, ww = float(h) * k, float(w) * k
    hh, ww = int(np.round(hh / 64.0)) * 64, int(np.round(ww / 64.0)) * 64
    if hh == 0 or ww == 0:
        raise ValueError(
            f"resolution {resolution} on a {h}x{w} image rounds a side to 0 (multiples of 64)"
        )
    return hh, ww


def round_size(height: int, width: int, multiple: int = 8) -> tuple[int, int]:
    """Round each side to the nearest positive multiple (8 for diffusers, 64 for ControlNet)."""
    h, w = _size(height, width)
    return (max(multiple, int(round(h / multiple)) * multiple),
            max(multiple, int(round(w / multiple)) * multiple))  # fmt: skip


def rescale_points(points: np.ndarray, src_size, dst_size) -> np.ndarray:
    """``(..., 2)`` pixels of a ``src_size`` (H, W) image -> pixels of the resized image.

    Pixel centres map to pixel centres, as OpenCV's resize: ``x' = (x + 0.5) * W'/W - 0.5``.
    """
    (sh, sw), (dh, dw) = _size(*src_size, "src_size"), _size(*dst_size, "dst_size")
    pts = np.asarray(points)
    scale = np.array([dw / sw, dh / sh], dtype=pts.dtype)
    half = np.asarray(0.5, dtype=pts.dtype)
    return (pts + half) * scale - half


def resize_map(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a drawn ``(H, W, 3)`` uint8 map with bilinear interpolation, as controlnet_aux
    does from detect to image resolution (OpenCV INTER_LINEAR). Same size: returned as is."""
    import cv2

    h, w = _size(height, width, "size")
    if image.shape[:2] == (h, w):
        return image
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)

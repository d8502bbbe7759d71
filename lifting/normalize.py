"""2D input normalisation for the lifter and its inverses (numpy).

Two schemes, stored with the weights as ``meta["input_norm"]``:

- ``"screen"`` (VideoPose3D ``normalize_screen_coordinates``): both axes divided by the image
  width, so the aspect ratio is kept: x' = 2 x / w - 1, y' = 2 y / w - h / w.
- ``"bbox"`` (MotionBERT in-the-wild ``crop_scale`` without its random scale): the bounding
  square of all valid keypoints over the whole clip maps to [-1, 1]:
  x' = (x - c_x) / (s / 2), y' = (y - c_y) / (s / 2), s = max(box width, box height).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INPUT_NORMS = ("screen", "bbox")


def _xy(keypoints, name: str = "keypoints") -> np.ndarray:
    arr = np.asarray(keypoints, dtype=np.float64)
    if arr.ndim < 2 or arr.shape[-1] != 2:
        raise ValueError(f"{name}: expected shape (..., J, 2), got {arr.shape}")
    return arr


def _size(width: float, height: float) -> tuple[float, float]:
    if not (np.isfinite(width) and np.isfinite(height)) or width <= 0 or height <= 0:
        raise ValueError(f"image size: expected positive width and height, got {width}x{height}")
    return float(width), float(height)


def screen_normalize(keypoints, width: float, height: float) -> np.ndarray:
    """Pixels ``(..., J, 2)`` -> aspect-preserving screen coordinates (x in [-1, 1])."""
    w, h = _size(width, height)
    xy = _xy(keypoints)
    return xy / w * 2.0 - np.array([1.0, h / w])


def screen_denormalize(normalized, width: float, height: float) -> np.ndarray:
    """Inverse of `screen_normalize`: screen coordinates -> pixels."""
    w, h = _size(width, height)
    xy = _xy(normalized, "normalized")
    return (xy + np.array([1.0, h / w])) * w / 2.0


def screen_scale_depth(z, width: float) -> np.ndarray:
    """Pixel-unit depth (MotionBERT 2.5D) -> screen units: z' = 2 z / w."""
    w, _ = _size(width, 1.0)
    return np.asarray(z, dtype=np.float64) / w * 2.0


@dataclass(frozen=True)
class BoxNorm:
    """Parameters of a bounding-square normalisation: centre ``(2,)`` pixels, side pixels."""

    center: tuple[float, float]
    scale: float


def bbox_params(keypoints, scores=None, min_score: float = 0.0) -> BoxNorm:
    """Bounding square of the valid keypoints of a whole clip ``(T, J, 2)`` (or any ``(..., 2)``).

    A keypoint is valid when finite and its score is > ``min_score`` (all finite points when
    ``scores`` is None). A clip whose valid points all coincide gets a side of 1 pixel.

    Raises:
        ValueError: no valid keypoint at all, or scores of the wrong shape.
    """
    xy = _xy(keypoints)
    valid = np.all(np.isfinite(xy), axis=-1)
    if scores is not None:
        sc = np.asarray(scores, dtype=np.float64)
        if sc.shape != xy.shape[:-1]:
            raise ValueError(f"scores: expected shape {xy.shape[:-1]}, got {sc.shape}")
        valid &= np.nan_to_num(sc, nan=-np.inf) > min_score
    if not np.any(valid):
        raise ValueError("bbox_params: expected at least one valid keypoint, got none")
    pts = xy[valid]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    scale = float(np.max(hi - lo))
    scale = scale if scale > 0 else 1.0
    centre = (lo + hi) / 2.0
    return BoxNorm(center=(float(centre[0]), float(centre[1])), scale=scale)


def bbox_normalize(keypoints, box: BoxNorm, clip: bool = True) -> np.ndarray:
    """Pixels -> bounding-square coordinates (optionally clipped to [-1, 1] like MotionBERT)."""
    xy = _xy(keypoints)
    out = (xy - np.asarray(box.center)) / (box.scale / 2.0)
    return np.clip(out, -1.0, 1.0) if clip else out


def bbox_denormalize(normalized, box: BoxNorm) -> np.ndarray:
    """Inverse of `bbox_normalize` (exact for unclipped values)."""
    xy = _xy(normalized, "normalized")
    return xy * (box.scale / 2.0) + np.asarray(box.center)


def normalize_input(
    keypoints, scores, width: float, height: float, input_norm: str = "screen"
) -> np.ndarray:
    """Model input ``(..., T, J, 3)`` = normalised (x, y) and the score channel.

    Invalid points (NaN coordinates or score 0) are set to (0, 0) with score 0 so the network
    input is always finite.

    Args:
        keypoints: ``(..., T, J, 2)`` pixels (NaN allowed for missing points).
        scores: ``(..., T, J)`` in [0, 1], or None for all ones.
        width, height: image size in pixels (only used by ``"screen"``).
        input_norm: ``"screen"`` or ``"bbox"`` (bounding square over the whole array).
    """
    if input_norm not in INPUT_NORMS:
        raise ValueError(f"input_norm: expected one of {INPUT_NORMS}, got {input_norm!r}")
    xy = _xy(keypoints)
    sc = np.ones(xy.shape[:-1]) if scores is None else np.asarray(scores, dtype=np.float64)
    if sc.shape != xy.shape[:-1]:
        raise ValueError(f"scores: expected shape {xy.shape[:-1]}, got {sc.shape}")
    valid = np.all(np.isfinite(xy), axis=-1) & np.isfinite(sc)
    sc = np.where(valid, np.clip(np.nan_to_num(sc), 0.0, 1.0), 0.0)
    if input_norm == "screen":
        out = screen_normalize(np.where(valid[..., None], xy, 0.0), width, height)
    else:
        out = bbox_normalize(np.where(valid[..., None], xy, 0.0), bbox_params(xy, sc))
    out = np.where((sc > 0)[..., None], out, 0.0)
    return np.concatenate([out, sc[..., None]], axis=-1).astype(np.float32)

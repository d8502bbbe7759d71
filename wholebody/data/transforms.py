"""Training augmentations for top-down whole-body crops (numpy, MMPose semantics).

Flip with left/right pair swap (``COCO_WHOLEBODY.flip_indices``), half-body crops, random
scale / rotation / shift of the box, and colour jitter. Keypoints are ``(..., K, 3)`` arrays of
``x, y, visibility``; images ``(H, W, 3)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wholebody.keypoints import COCO_WHOLEBODY

_UPPER_BODY = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)  # fmt: skip


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation settings (defaults: RTMPose whole-body recipe)."""

    flip_prob: float = 0.5
    half_body_prob: float = 0.3
    half_body_min_keypoints: int = 9  # labelled keypoints needed to try a half-body crop
    half_body_padding: float = 1.5
    upper_prioritized_prob: float = 0.7
    scale_range: tuple[float, float] = (0.6, 1.4)  # box scale factor
    rotate_max: float = 80.0  # degrees
    rotate_prob: float = 0.6
    shift_factor: float = 0.16  # fraction of the box size
    shift_prob: float = 0.3
    colour_prob: float = 1.0
    brightness: float = 0.2  # +- fraction
    contrast: float = 0.2
    saturation: float = 0.3


NO_AUGMENT = AugmentConfig(
    flip_prob=0.0, half_body_prob=0.0, scale_range=(1.0, 1.0), rotate_prob=0.0,
    shift_prob=0.0, colour_prob=0.0,
)  # fmt: skip


def flip_keypoints_horizontal(
    keypoints: np.ndarray, width: float, flip_indices: np.ndarray | None = None
) -> np.ndarray:
    """Mirror ``(..., K, 3)`` keypoints in an image of ``width`` (x -> width - 1 - x) and swap
    left/right pairs. An involution; unlabelled keypoints keep visibility 0."""
    kp = np.array(keypoints, dtype=np.float64, copy=True)
    idx = COCO_WHOLEBODY.flip_indices if flip_indices is None else np.asarray(flip_indices)
    if kp.shape[-2] != len(idx):
        raise ValueError(f"keypoints: expected {len(idx)} keypoints, got shape {kp.shape}")
    kp[..., 0] = np.where(kp[..., 2] > 0, width - 1 - kp[..., 0], kp[..., 0])
    return kp[..., idx, :]


def flip_image_horizontal(image: np.ndarray) -> np.ndarray:
    """``(H, W, C)`` image mirrored left-right."""
    return np.ascontiguousarray(np.asarray(image)[:, ::-1])


def half_body_box(
    keypoints: np.ndarray,
    rng: np.random.Generator,
    aspect_ratio: float,
    config: AugmentConfig,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Centre and scale of an upper- or lower-body crop, or None when too few are labelled."""
    vis = keypoints[:, 2] > 0
    if vis.sum() < config.half_body_min_keypoints:
        return None
    upper_names = set(_UPPER_BODY)
    parts = COCO_WHOLEBODY.parts
    upper = np.zeros(len(keypoints), dtype=bool)
    upper[[COCO_WHOLEBODY.index(n) for n in upper_names]] = True
    for part in ("face", "left_hand", "right_hand"):
        upper[parts[part]] = True
    up, low = vis & upper, vis & ~upper
    if up.sum() >= 2 and (low.sum() < 3 or rng.random() < config.upper_prioritized_prob):
        chosen = up
    elif low.sum() >= 3:
        chosen = low
    else:
        return None
    pts = keypoints[chosen, :2]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    center = (lo + hi) / 2
    w, h = hi - lo
    if w > h * aspect_ratio:
        h = w / aspect_ratio
    else:
        w = h * aspect_ratio
    return center, np.array([w, h]) * config.half_body_padding


def random_box_transform(
    rng: np.random.Generator, config: AugmentConfig
) -> tuple[float, float, np.ndarray]:
    """Scale factor, rotation (degrees) and centre shift (fraction of the box) for one sample."""
    lo, hi = config.scale_range
    scale = rng.uniform(lo, hi) if hi > lo else lo
    rot = (
        rng.uniform(-config.rotate_max, config.rotate_max)
        if rng.random() < config.rotate_prob
        else 0.0
    )
    shift = (
        rng.uniform(-config.shift_factor, config.shift_factor, 2)
        if rng.random() < config.shift_prob
        else np.zeros(2)
    )
    return float(scale), float(rot), shift


def colour_jitter(image: np.ndarray, rng: np.random.Generator, config: AugmentConfig) -> np.ndarray:
    """Brightness, contrast and saturation jitter of a float ``(H, W, 3)`` 0-255 image."""
    img = np.asarray(image, dtype=np.float32)
    if rng.random() >= config.colour_prob:
        return img
    b = 1 + rng.uniform(-config.brightness, config.brightness)
    c = 1 + rng.uniform(-config.contrast, config.contrast)
    s = 1 + rng.uniform(-config.saturation, config.saturation)
    grey = img.mean(axis=2, keepdims=True)
    img = grey + (img - grey) * s
    img = (img - img.mean()) * c + img.mean()
    return np.clip(img * b, 0, 255).astype(np.float32)

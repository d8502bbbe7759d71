"""Horizontal flips of keypoints through a set's flip pairs (never literal indices)."""

from __future__ import annotations

import numpy as np

from wholebody.keypoints.base import KeypointSet
from wholebody.keypoints.validate import check_keypoints


def flip_keypoints(
    keypoints: np.ndarray,
    kset: KeypointSet,
    scores: np.ndarray | None = None,
    image_width: float | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Mirror ``(..., J, C)`` keypoints left-right and swap left/right names.

    With ``image_width`` the x pixel coordinate maps to ``width - 1 - x`` (integer = pixel
    centre); without it x is negated (normalised 2D or 3D camera coordinates). Applying the
    flip twice is the identity.

    Returns:
        flipped keypoints, and flipped ``(..., J)`` scores when scores are given.
    """
    kp = check_keypoints(keypoints, kset, allow_nan=True).copy()
    perm = kset.flip_indices
    kp = kp[..., perm, :]
    kp[..., 0] = (image_width - 1 - kp[..., 0]) if image_width is not None else -kp[..., 0]
    if scores is None:
        return kp
    scores = np.asarray(scores)
    if scores.shape != kp.shape[:-1]:
        raise ValueError(f"scores: expected shape {kp.shape[:-1]}, got {scores.shape}")
    return kp, scores[..., perm]

"""Flip augmentation for normalised 2D inputs and camera-frame 3D targets (numpy).

Left/right joints are swapped through the keypoint set's ``flip_indices`` (derived from
names), never literal index lists.
"""

from __future__ import annotations

import numpy as np

from wholebody.keypoints import H36M, KeypointSet


def flip_pose(x, kset: KeypointSet = H36M) -> np.ndarray:
    """Mirror ``(..., J, C)`` poses whose x (channel 0) is centred at 0 and swap left/right.

    Works for screen- or box-normalised 2D (with an extra score channel) and for 3D camera
    coordinates. Applying it twice is the identity.
    """
    arr = np.asarray(x)
    if arr.ndim < 2 or arr.shape[-2] != len(kset):
        raise ValueError(f"flip_pose: expected shape (..., {len(kset)}, C), got {arr.shape}")
    out = arr[..., kset.flip_indices, :].copy()
    out[..., 0] = -out[..., 0]
    return out


def random_flip(
    inputs, targets, rng: np.random.Generator, p: float = 0.5, kset: KeypointSet = H36M
) -> tuple[np.ndarray, np.ndarray]:
    """Flip each batch item ``(B, ...)`` of inputs and targets together with probability p."""
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    if inputs.shape[0] != targets.shape[0]:
        raise ValueError(f"random_flip: batch sizes differ, {inputs.shape} vs {targets.shape}")
    mask = rng.random(inputs.shape[0]) < p
    inputs, targets = inputs.copy(), targets.copy()
    if np.any(mask):
        inputs[mask] = flip_pose(inputs[mask], kset)
        targets[mask] = flip_pose(targets[mask], kset)
    return inputs, targets

"""Input checks shared by every stage: shapes, joint counts, finite values."""

from __future__ import annotations

import numpy as np

from wholebody.keypoints.base import KeypointSet


def check_keypoints(
    keypoints,
    kset: KeypointSet | int | None = None,
    dims: tuple[int, ...] = (2, 3),
    name: str = "keypoints",
    allow_nan: bool = False,
) -> np.ndarray:
    """Validate a ``(..., J, C)`` keypoint array and return it as a float numpy array.

    Raises:
        ValueError: naming expected vs actual joint count, last dimension, or NaN/inf.
    """
    arr = np.asarray(keypoints)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.result_type(arr.dtype, np.float32), copy=False)
    if arr.ndim < 2:
        raise ValueError(f"{name}: expected shape (..., J, C), got {arr.shape}")
    if arr.shape[-1] not in dims:
        raise ValueError(f"{name}: expected last dimension in {dims}, got shape {arr.shape}")
    if kset is not None:
        num = kset if isinstance(kset, int) else len(kset)
        label = f" ({kset.name})" if isinstance(kset, KeypointSet) else ""
        if arr.shape[-2] != num:
            raise ValueError(f"{name}: expected J={num}{label}, got shape {arr.shape}")
    if not allow_nan and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name}: expected finite values, got {bad} NaN/inf entries")
    return arr


def check_scores(scores, keypoints: np.ndarray, name: str = "scores") -> np.ndarray:
    """Validate ``(..., J)`` scores against ``(..., J, C)`` keypoints; NaN scores are rejected."""
    arr = np.asarray(scores)
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.result_type(arr.dtype, np.float32), copy=False)
    if arr.shape != keypoints.shape[:-1]:
        raise ValueError(f"{name}: expected shape {keypoints.shape[:-1]}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite values, got NaN/inf")
    return arr

"""Vectorised intrinsic Euler angles <-> rotation matrices (BVH channel convention).

``order="ZXY"`` means R = Rz(a) @ Rx(b) @ Ry(c) with angles (a, b, c) in that order, the
convention of BVH channel lists and of :mod:`wholebody.rotations` (which this matches to
~1e-12, see the tests); these closed forms avoid scipy's per-call overhead on millions
of rotations.
"""

from __future__ import annotations

import numpy as np

_AXIS = {"X": 0, "Y": 1, "Z": 2}
ORDERS = ("XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX")


def _check_order(order: str) -> tuple[int, int, int, float]:
    order = order.upper()
    if order not in ORDERS:
        raise ValueError(f"Euler order: expected one of {ORDERS}, got {order!r}")
    i, j, k = (_AXIS[a] for a in order)
    sign = 1.0 if (j - i) % 3 == 1 else -1.0  # +1 for cyclic orders XYZ, YZX, ZXY
    return i, j, k, sign


def _elementary(axis: int, angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros(angle.shape + (3, 3))
    a, b = (axis + 1) % 3, (axis + 2) % 3
    out[..., axis, axis] = 1.0
    out[..., a, a] = c
    out[..., b, b] = c
    out[..., a, b] = -s
    out[..., b, a] = s
    return out


def euler_to_matrix(angles, order: str = "ZXY") -> np.ndarray:
    """(..., 3) radians (listed in ``order``) -> (..., 3, 3)."""
    i, j, k, _ = _check_order(order)
    ang = np.asarray(angles, dtype=np.float64)
    if ang.shape[-1:] != (3,):
        raise ValueError(f"angles: expected shape (..., 3), got {ang.shape}")
    ri = _elementary(i, ang[..., 0])
    rj = _elementary(j, ang[..., 1])
    rk = _elementary(k, ang[..., 2])
    return ri @ rj @ rk


def matrix_to_euler(matrix, order: str = "ZXY") -> np.ndarray:
    """(..., 3, 3) rotations -> (..., 3) radians in ``order``; middle angle in [-pi/2, pi/2].

    At gimbal lock (middle angle +-90 degrees) the last angle is set to 0.
    """
    i, j, k, s = _check_order(order)
    R = np.asarray(matrix, dtype=np.float64)
    if R.shape[-2:] != (3, 3):
        raise ValueError(f"matrix: expected shape (..., 3, 3), got {R.shape}")
    sin_b = np.clip(s * R[..., i, k], -1.0, 1.0)
    b = np.arctan2(sin_b, np.hypot(R[..., i, i], R[..., i, j]))  # precise near +-90 degrees
    a = np.arctan2(-s * R[..., j, k], R[..., k, k])
    c = np.arctan2(-s * R[..., i, j], R[..., i, i])
    lock = np.abs(sin_b) > 1.0 - 1e-12
    if np.any(lock):
        a = np.where(lock, np.arctan2(s * R[..., k, j], R[..., j, j]), a)
        c = np.where(lock, 0.0, c)
    return np.stack([a, b, c], axis=-1)

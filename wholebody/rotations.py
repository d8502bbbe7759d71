"""Rotation conversions in numpy (``(..., 3)`` axis-angle, ``(..., 3, 3)`` matrices, ...).

Radians throughout. Quaternions are scalar-last ``(x, y, z, w)`` like scipy unless
``scalar_first=True``. Euler orders are intrinsic rotations named by their axis sequence
(``"ZXY"`` = rotate about Z, then the new X, then the new Y; the matrix is Rz @ Rx @ Ry), the
convention of BVH channel lists. The 6D representation is the first two matrix columns
(Zhou et al., CVPR 2019).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

EULER_ORDERS = ("XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX")


def _check(x, tail: tuple[int, ...], name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape[arr.ndim - len(tail) :] != tail or arr.ndim < len(tail):
        raise ValueError(
            f"{name}: expected shape (..., {', '.join(map(str, tail))}), got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite values, got NaN/inf")
    return arr


def _apply(fn, arr: np.ndarray, tail: int, out_tail: tuple[int, ...]) -> np.ndarray:
    batch = arr.shape[: arr.ndim - tail]
    flat = arr.reshape((-1,) + arr.shape[arr.ndim - tail :])  # (B, *tail)
    return fn(flat).reshape(batch + out_tail)


def axis_angle_to_matrix(axis_angle) -> np.ndarray:
    """``(..., 3)`` rotation vectors -> ``(..., 3, 3)`` matrices (Rodrigues)."""
    aa = _check(axis_angle, (3,), "axis_angle")
    return _apply(lambda x: Rotation.from_rotvec(x).as_matrix(), aa, 1, (3, 3))


def matrix_to_axis_angle(matrix) -> np.ndarray:
    """``(..., 3, 3)`` -> ``(..., 3)`` rotation vectors with angle in [0, pi]."""
    m = _check(matrix, (3, 3), "matrix")
    return _apply(lambda x: Rotation.from_matrix(x).as_rotvec(), m, 2, (3,))


def quaternion_to_matrix(quat, scalar_first: bool = False) -> np.ndarray:
    """``(..., 4)`` unit quaternions -> ``(..., 3, 3)``."""
    q = _check(quat, (4,), "quaternion")
    q = np.roll(q, -1, axis=-1) if scalar_first else q
    return _apply(lambda x: Rotation.from_quat(x).as_matrix(), q, 1, (3, 3))


def matrix_to_quaternion(matrix, scalar_first: bool = False) -> np.ndarray:
    """``(..., 3, 3)`` -> ``(..., 4)`` quaternions with non-negative scalar part."""
    m = _check(matrix, (3, 3), "matrix")
    q = _apply(lambda x: Rotation.from_matrix(x).as_quat(canonical=True), m, 2, (4,))
    return np.roll(q, 1, axis=-1) if scalar_first else q


def axis_angle_to_quaternion(axis_angle, scalar_first: bool = False) -> np.ndarray:
    return matrix_to_quaternion(axis_angle_to_matrix(axis_angle), scalar_first)


def quaternion_to_axis_angle(quat, scalar_first: bool = False) -> np.ndarray:
    return matrix_to_axis_angle(quaternion_to_matrix(quat, scalar_first))


def _check_order(order: str) -> str:
    if order.upper() not in EULER_ORDERS:
        raise ValueError(f"Euler order: expected one of {EULER_ORDERS}, got {order!r}")
    return order.upper()


def euler_to_matrix(angles, order: str = "ZXY") -> np.ndarray:
    """``(..., 3)`` intrinsic Euler angles (radians, in ``order``) -> ``(..., 3, 3)``."""
    order = _check_order(order)
    ang = _check(angles, (3,), "euler")
    return _apply(lambda x: Rotation.from_euler(order, x).as_matrix(), ang, 1, (3, 3))


def matrix_to_euler(matrix, order: str = "ZXY") -> np.ndarray:
    """``(..., 3, 3)`` -> ``(..., 3)`` intrinsic Euler angles in ``order`` (radians)."""
    order = _check_order(order)
    m = _check(matrix, (3, 3), "matrix")
    return _apply(lambda x: Rotation.from_matrix(x).as_euler(order), m, 2, (3,))


def matrix_to_rot6d(matrix) -> np.ndarray:
    """``(..., 3, 3)`` -> ``(..., 6)``: first two columns, column-major ``[c0, c1]``."""
    m = _check(matrix, (3, 3), "matrix")
    return np.concatenate([m[..., :, 0], m[..., :, 1]], axis=-1)


def rot6d_to_matrix(rot6d) -> np.ndarray:
    """``(..., 6)`` -> ``(..., 3, 3)`` by Gram-Schmidt on the two columns."""
    r = _check(rot6d, (6,), "rot6d")
    a1, a2 = r[..., :3], r[..., 3:]
    b1 = a1 / np.linalg.norm(a1, axis=-1, keepdims=True)
    a2 = a2 - np.sum(b1 * a2, axis=-1, keepdims=True) * b1
    b2 = a2 / np.linalg.norm(a2, axis=-1, keepdims=True)
    b3 = np.cross(b1, b2)
    return np.stack([b1, b2, b3], axis=-1)

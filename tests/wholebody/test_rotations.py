"""Rotation conversions: round trips and parity with scipy and elementary matrices."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from wholebody import rotations as rot


def _elementary(axis: str, a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    m = {
        "X": [[o, z, z], [z, c, -s], [z, s, c]],
        "Y": [[c, z, s], [z, o, z], [-s, z, c]],
        "Z": [[c, -s, z], [s, c, z], [z, z, o]],
    }[axis]
    return np.moveaxis(np.array(m), (0, 1), (-2, -1))


@pytest.mark.parametrize("order", rot.EULER_ORDERS)
def test_euler_round_trip_and_scipy(order):
    rng = np.random.default_rng(1)
    angles = rng.uniform(-np.pi, np.pi, size=(50, 3))
    angles[:, 1] = rng.uniform(-1.4, 1.4, size=50)  # away from gimbal lock
    m = rot.euler_to_matrix(angles, order)
    np.testing.assert_allclose(m, Rotation.from_euler(order, angles).as_matrix(), atol=1e-12)
    # intrinsic order = product of elementary rotations in the order named (BVH channels)
    prod = _elementary(order[0], angles[:, 0]) @ _elementary(order[1], angles[:, 1])
    np.testing.assert_allclose(m, prod @ _elementary(order[2], angles[:, 2]), atol=1e-12)
    back = rot.matrix_to_euler(m, order)
    np.testing.assert_allclose(rot.euler_to_matrix(back, order), m, atol=1e-10)
    np.testing.assert_allclose(back, angles, atol=1e-9)


def test_axis_angle_quaternion_6d_round_trips():
    rng = np.random.default_rng(2)
    aa = rng.normal(size=(4, 7, 3))
    aa *= rng.uniform(0.1, 3.0, size=(4, 7, 1)) / np.linalg.norm(aa, axis=-1, keepdims=True)
    m = rot.axis_angle_to_matrix(aa)
    assert m.shape == (4, 7, 3, 3)
    np.testing.assert_allclose(rot.matrix_to_axis_angle(m), aa, atol=1e-10)
    for scalar_first in (False, True):
        q = rot.axis_angle_to_quaternion(aa, scalar_first)
        np.testing.assert_allclose(rot.quaternion_to_axis_angle(q, scalar_first), aa, atol=1e-10)
    q = rot.matrix_to_quaternion(m, scalar_first=True)
    np.testing.assert_allclose(q[..., 0], np.cos(np.linalg.norm(aa, axis=-1) / 2), atol=1e-12)
    np.testing.assert_allclose(rot.rot6d_to_matrix(rot.matrix_to_rot6d(m)), m, atol=1e-12)


def test_rotation_bad_input():
    with pytest.raises(ValueError, match=r"expected shape \(\.\.\., 3\)"):
        rot.axis_angle_to_matrix(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="Euler order"):
        rot.euler_to_matrix(np.zeros(3), "XXY")
    with pytest.raises(ValueError, match="NaN"):
        rot.axis_angle_to_matrix(np.array([np.nan, 0, 0]))

"""Motion container: validation, FK, frame changes, subsets."""

from __future__ import annotations

import numpy as np
import pytest

from body_models.export.motion import Motion, depth_first_order


def chain(T: int = 3) -> Motion:
    rot = np.tile(np.eye(3), (T, 3, 1, 1))
    rot[:, 1] = [[0, -1, 0], [1, 0, 0], [0, 0, 1]]  # 90 degrees about z at the middle joint
    return Motion(("a", "b", "c"), (-1, 0, 1), np.array([[0, 0, 0], [1, 0, 0], [1, 0, 0.0]]), rot,
                  {0: np.zeros((T, 3))}, 0.1)  # fmt: skip


def test_fk_by_hand():
    pos, rot = chain().forward_kinematics()
    np.testing.assert_allclose(pos[0], [[0, 0, 0], [1, 0, 0], [1, 1, 0]], atol=1e-12)
    np.testing.assert_allclose(rot[0, 2], rot[0, 1])


def test_transformed_and_subset():
    m = chain()
    C = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])
    pos, _ = m.transformed(C, 100.0).forward_kinematics()
    np.testing.assert_allclose(pos, 100 * m.forward_kinematics()[0] @ C.T, atol=1e-9)
    with pytest.raises(ValueError, match="rotation matrix"):
        m.transformed(np.diag([1.0, 1.0, -1.0]))
    sub = m.subset(["b"])
    assert sub.names == ("a", "b") and sub.rotations.shape == (3, 2, 3, 3)
    with pytest.raises(ValueError, match="parent 'b' dropped"):
        m.subset(["c"])
    assert depth_first_order((-1, 0, 0, 1, 2)) == [0, 1, 3, 2, 4]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"parents": (0, 0, 1)}, "root first"),
        ({"parents": (-1, 2, 1)}, "parents before children"),
        ({"names": ("a", "a", "c")}, "unique"),
        ({"offsets": np.zeros((2, 3))}, r"offsets: expected shape \(3, 3\)"),
        ({"rotations": np.zeros((3, 2, 3, 3))}, r"rotations: expected shape \(T, 3, 3, 3\)"),
        ({"positions": {0: np.zeros((2, 3))}}, r"positions\[0\]: expected shape \(3, 3\)"),
        ({"frame_time": 0.0}, "frame_time"),
        ({"offsets": np.full((3, 3), np.inf)}, "finite"),
    ],
)
def test_validation(change, message):
    m = chain()
    kwargs = dict(names=m.names, parents=m.parents, offsets=m.offsets, rotations=m.rotations,
                  positions=m.positions, frame_time=m.frame_time)  # fmt: skip
    kwargs.update(change)
    with pytest.raises(ValueError, match=message):
        Motion(**kwargs)

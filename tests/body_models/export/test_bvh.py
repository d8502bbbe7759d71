"""BVH writer/reader: round trips, real CMU files, malformed input, atomic writes."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from body_models.export import bvh as bvh_mod
from body_models.export.bvh import bvh_text, write_bvh
from body_models.export.bvh_read import parse_bvh, read_bvh
from body_models.export.euler import ORDERS, euler_to_matrix, matrix_to_euler

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("order", ORDERS)
def test_euler_matches_scipy_intrinsic(order):
    rng = np.random.default_rng(0)
    ang = rng.uniform(-3, 3, size=(200, 3)) * [1, 0.5, 1]
    ref = Rotation.from_euler(order, ang).as_matrix()
    np.testing.assert_allclose(euler_to_matrix(ang, order), ref, atol=1e-12)
    back = matrix_to_euler(ref, order)
    np.testing.assert_allclose(euler_to_matrix(back, order), ref, atol=1e-12)
    lock = Rotation.from_euler(order, [0.3, np.pi / 2, 0.2]).as_matrix()
    np.testing.assert_allclose(
        euler_to_matrix(matrix_to_euler(lock, order), order), lock, atol=1e-9
    )


@pytest.mark.parametrize("order", ["ZXY", "XYZ", "ZYX", "YZX"])
def test_write_read_round_trip_exact(tmp_path, random_motion, order):
    path = tmp_path / "m.bvh"
    write_bvh(path, random_motion, order=order)
    back = read_bvh(path)
    assert back.names[0] == "pelvis" and set(back.names) == set(random_motion.names)
    idx = [back.index(n) for n in random_motion.names]
    np.testing.assert_allclose(back.rotations[:, idx], random_motion.rotations, atol=1e-6)
    np.testing.assert_allclose(back.offsets[idx], random_motion.offsets, atol=1e-6)
    p0, _ = random_motion.forward_kinematics()
    p1, _ = back.forward_kinematics()
    np.testing.assert_allclose(p1[:, idx], p0, atol=1e-6)
    assert back.num_frames == random_motion.num_frames
    assert abs(back.fps - 30.0) < 1e-6  # >= 7 significant digits in Frame Time
    assert "Frame Time: 0.03333333333" in path.read_text()


def test_cmu_file_read_and_exact_rewrite(tmp_path):
    m = read_bvh(DATA / "cmu_01_01_15fps.bvh")
    assert m.num_joints == 31 and m.num_frames == 344
    assert m.names[:3] == ("Hips", "LHipJoint", "LeftUpLeg") and len(m.end_sites) == 7
    assert abs(m.fps - 15.0) < 1e-3
    pos, _ = m.forward_kinematics()
    height = pos[0, m.index("Head"), 1] - pos[0, m.index("LeftToeBase"), 1]
    assert 20 < height < 30  # CMU units: about 25 tall (offline_data.md)
    write_bvh(tmp_path / "again.bvh", m, order="ZYX")
    again = read_bvh(tmp_path / "again.bvh")
    np.testing.assert_allclose(again.forward_kinematics()[0], pos, atol=1e-5)
    # the text re-parses identically in another channel order too
    other = parse_bvh(bvh_text(m, order="XZY"))
    np.testing.assert_allclose(other.forward_kinematics()[0], pos, atol=1e-5)


def test_tolerant_reader_variants(caplog):
    text = (
        "hierarchy\r\nROOT  root {\r\n  OFFSET 0 0 0\r\n  CHANNELS 6 Zrotation Xposition Yposition "
        "Zposition Yrotation Xrotation   \r\n JOINT a {\n OFFSET 0 1 0\n CHANNELS 5 Xposition "
        "Yposition Zposition Xrotation Zrotation\n End Site\n {\n OFFSET 0 1 0\n }\n }\n}\n\n"
        "MOTION\nFrames: 5\nFrame Time: .0083333\n"
        "90 1 2 3 0 0 4 5 6 90 0\n\n0 0 0 0 0 0 0 0 0 0 0\n"
    )
    with caplog.at_level(logging.WARNING):
        m = parse_bvh(text)
    assert "Frames: 5" in caplog.text and m.num_frames == 2
    assert abs(m.fps - 120.0005) < 1e-3
    np.testing.assert_allclose(m.positions[0][0], [1, 2, 3])
    np.testing.assert_allclose(m.positions[1][0], [4, 5, 6])
    np.testing.assert_allclose(
        m.rotations[0, 0],
        Rotation.from_euler("ZYX", [90, 0, 0], degrees=True).as_matrix(),
        atol=1e-12,
    )
    np.testing.assert_allclose(
        m.rotations[0, 1], Rotation.from_euler("XZ", [90, 0], degrees=True).as_matrix(), atol=1e-12
    )


GOOD = """HIERARCHY
ROOT hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT knee
  {
    OFFSET 0 -1 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 -1 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.04
0 1 0 0 0 0 10 20 30
0 1 0 0 0 0 10 20 30
"""

FRAMES = "Frames: 2\nFrame Time: 0.04\n"
ROWS = "0 1 0 0 0 0 10 20 30\n" * 2


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  JOINT knee\n  {", "  JOINT knee\n", r"line 8: expected '\{' after JOINT knee"),
        ("    }\n  }\n}", "    }\n}", r"line 15: missing '\}' for joint 'hips' opened at line 2"),
        ("CHANNELS 3 Zrotation", "CHANNELS 4 Zrotation", r"line 9: CHANNELS of 'knee' declares 4"),
        ("0 1 0 0 0 0 10 20 30\n0", "0 1 0 0 0 0 10 20\n0", r"line 19: expected 9 values"),
        ("0 1 0 0 0 0 10 20 30\n0", "0 1 0 0 0 x 10 20 30\n0", r"line 19: expected a number"),
        ("0 1 0 0 0 0 10 20 30\n0", "0 1 0 0 0 nan 10 20 30\n0", r"line 19: value 6 is nan"),
        (FRAMES + ROWS, "Frames: 0\nFrame Time: 0.04\n", r"line 18: MOTION section has no"),
        ("MOTION\n" + FRAMES + ROWS, "MOTION\n", r"MOTION section is empty"),
        ("HIERARCHY", "HIERARCH", r"line 1: expected 'HIERARCHY'"),
        ("OFFSET 0 -1 0\n    CHANNELS", "OFFSET 0 -z 0\n    CHANNELS", r"line 8: OFFSET of 'knee'"),
        ("Frame Time: 0.04", "Frame Time: 0", r"line 18: Frame Time must be positive"),
    ],
)  # fmt: skip
def test_malformed_bvh_errors_name_lines(old, new, message):
    assert old in GOOD
    parse_bvh(GOOD)  # the unmodified text is fine
    with pytest.raises(ValueError, match=message):
        parse_bvh(GOOD.replace(old, new))


def test_nan_rotations_rejected_and_nothing_written(tmp_path, random_motion):
    rot = random_motion.rotations.copy()
    rot[3, 5, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"rotations: expected finite values.*\[3, 5, 0, 0\]"):
        type(random_motion)(
            names=random_motion.names, parents=random_motion.parents, offsets=random_motion.offsets,
            rotations=rot, positions=random_motion.positions, frame_time=random_motion.frame_time,
        )  # fmt: skip


def test_atomic_write_keeps_old_file_on_failure(tmp_path, random_motion, monkeypatch):
    path = tmp_path / "out.bvh"
    path.write_text("old content")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(bvh_mod, "bvh_text", lambda *a, **k: "HIERARCHY\n" + boom())
    with pytest.raises(RuntimeError):
        write_bvh(path, random_motion)
    assert path.read_text() == "old content"
    monkeypatch.undo()
    from body_models.export import atomic

    class Fails:
        def __init__(self, fh):
            self.fh = fh

    with pytest.raises(RuntimeError):
        with atomic.atomic_open(path) as fh:
            fh.write("partial")
            boom()
    assert path.read_text() == "old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bvh"]
    with pytest.raises(ValueError, match="does not exist"):
        write_bvh(tmp_path / "missing_dir" / "x.bvh", random_motion)


def test_body_only_and_names(rest_joints):
    from body_models.export.smplx_motion import smplx_motion
    from tests.body_models.export.conftest import random_params

    params = random_params(4)
    body = smplx_motion(params, rest_joints, body_only=True, names="mixamo")
    assert body.num_joints == 22 and body.names[0] == "Hips" and "LeftHand" in body.names
    full = smplx_motion(params, rest_joints, names="unreal")
    assert full.num_joints == 55 and "index_01_l" in full.names and "upperarm_r" in full.names
    text = bvh_text(full)
    assert text.count("JOINT ") == 54 and text.count("End Site") == 10 + 2 + 1 + 2

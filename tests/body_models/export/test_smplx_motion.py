"""The export skeleton's FK equals the body model's posed joints after the axis/unit map."""

from __future__ import annotations

import numpy as np
import pytest

from body_models.export.smplx_motion import (
    camera_to_world,
    full_pose_matrices,
    model_rest_joints,
    smplx_end_sites,
    smplx_motion,
)
from body_models.forward import body_forward
from tests.body_models.export.conftest import random_params
from wholebody.keypoints import SMPLX
from wholebody.rotations import axis_angle_to_matrix


@pytest.mark.parametrize(("up", "units"), [("y", "m"), ("z", "cm")])
def test_fk_matches_body_forward(model, up, units):
    params = random_params(4, seed=7)
    params["betas"] = np.linspace(-1, 1, 10)
    joints = body_forward(model, params).joints  # (T, 55, 3) camera frame, float32 maths
    motion = smplx_motion(params, model_rest_joints(model, params["betas"]), up=up, units=units)
    fk, _ = motion.forward_kinematics()
    scale = 100.0 if units == "cm" else 1.0
    np.testing.assert_allclose(fk, camera_to_world(joints, up, units), atol=2e-5 * scale)


def test_axis_conventions(rest_joints):
    params = random_params(2)
    y = smplx_motion(params, rest_joints).forward_kinematics()[0]
    z = smplx_motion(params, rest_joints, up="z", units="cm").forward_kinematics()[0]
    np.testing.assert_allclose(
        z, 100 * y @ np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]]).T, atol=1e-9
    )
    # the rest skeleton stands along the up axis in both worlds
    rz = smplx_motion(params, rest_joints, up="z").rest_positions()
    assert rz[15, 2] - rz[0, 2] > 0.3 and abs(rz[15, 1] - rz[0, 1]) < 0.1


def test_rodrigues_matches_reference():
    aa = np.random.default_rng(0).normal(size=(100, 3))
    aa[0] = 0.0
    aa[1] = [1e-10, 0, 0]
    np.testing.assert_allclose(
        full_pose_matrices({"global_orient": aa, "body_pose": np.zeros((100, 63))})[:, 0],
        axis_angle_to_matrix(aa),
        atol=1e-12,
    )


def test_bad_params(rest_joints):
    params = random_params(3)
    with pytest.raises(ValueError, match=r"body_pose: expected shape \(3, 63\)"):
        smplx_motion({**params, "body_pose": params["body_pose"][:, :60]}, rest_joints)
    with pytest.raises(ValueError, match="rest_joints: expected shape"):
        smplx_motion(params, rest_joints[:22])
    with pytest.raises(ValueError, match="up: expected"):
        smplx_motion(params, rest_joints, up="x")
    with pytest.raises(ValueError, match="fps: expected a positive number"):
        smplx_motion(params, rest_joints, fps=0)


def test_end_sites_from_surface(model, tmp_path):
    from body_models.export.bvh import write_bvh
    from body_models.export.bvh_read import read_bvh

    ends = smplx_end_sites(model)
    assert len(ends) == 12  # 10 fingertips + 2 big toes
    rest = model_rest_joints(model)
    for name in ("left_index3", "right_thumb3"):
        bone = rest[SMPLX.index(name)] - rest[SMPLX.parents[SMPLX.index(name)]]
        cos = ends[name] @ bone / np.linalg.norm(ends[name]) / np.linalg.norm(bone)
        assert cos > 0.8 and 0.005 < np.linalg.norm(ends[name]) < 0.05
    motion = smplx_motion(random_params(2), rest, end_sites=ends, units="cm")
    write_bvh(tmp_path / "e.bvh", motion)
    back = read_bvh(tmp_path / "e.bvh")
    np.testing.assert_allclose(
        back.end_sites[back.index("left_index3")], 100 * ends["left_index3"], atol=1e-6
    )

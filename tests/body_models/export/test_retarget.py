"""Retargeting CMU mocap onto SMPL-X keeps bone directions through a BVH round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from body_models.export.bvh import write_bvh
from body_models.export.bvh_read import read_bvh
from body_models.export.names import CMU_TO_SMPLX, source_map
from body_models.export.retarget import kabsch, minimal_rotation, retarget_to_smplx
from body_models.export.smplx_motion import smplx_motion
from wholebody.keypoints import SMPLX

DATA = Path(__file__).parent / "data"
# Single-bone joints follow the source exactly (limit: 6-decimal BVH angles); the pelvis is
# rigid, so its two hip bones can only match up to the rest-shape difference of the pelvises.
EXACT_DEG, PELVIS_DEG = 0.01, 15.0


def bone_angles(src, back) -> dict[str, float]:
    """Max angle (degrees, over frames) between each retargeted bone and its source bone."""
    P, _ = back.forward_kinematics()
    Ps, _ = src.forward_kinematics()
    inv = {v: k for k, v in CMU_TO_SMPLX.items()}
    rest = src.rest_positions()
    out = {}
    for j, name in enumerate(SMPLX.names):
        parent = SMPLX.names[SMPLX.parents[j]] if SMPLX.parents[j] >= 0 else None
        if parent not in inv or name not in inv:
            continue
        sa, sb = src.index(inv[parent]), src.index(inv[name])
        if np.linalg.norm(rest[sb] - rest[sa]) < 1e-6:
            continue  # coincident source joints (CMU Hips/LowerBack, Spine1/LeftShoulder)
        a = P[:, back.index(name)] - P[:, back.index(parent)]
        b = Ps[:, sb] - Ps[:, sa]
        cos = np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        out[f"{parent}->{name}"] = float(np.degrees(np.arccos(np.clip(cos, -1, 1))).max())
    return out


def test_cmu_retarget_bvh_round_trip_keeps_bone_directions(tmp_path, rest_joints):
    src = read_bvh(DATA / "cmu_01_01_15fps.bvh")
    params = retarget_to_smplx(src, CMU_TO_SMPLX, rest_joints)
    assert params["body_pose"].shape == (src.num_frames, 63)
    assert np.all(params["left_hand_pose"] == 0)
    motion = smplx_motion(params, rest_joints, fps=src.fps)
    write_bvh(tmp_path / "smplx.bvh", motion)
    back = read_bvh(tmp_path / "smplx.bvh")
    assert back.num_joints == 55 and back.num_frames == src.num_frames
    angles = bone_angles(src, back)
    assert len(angles) == 18  # 21 mapped bones less 3 with coincident source joints
    for bone, deg in angles.items():
        limit = PELVIS_DEG if bone.startswith("pelvis->") else EXACT_DEG
        assert deg < limit, (bone, deg)
    # scaled to SMPL-X size: the pelvis stays about a leg length above the lowest foot
    P, _ = back.forward_kinematics()
    feet = P[:, [back.index("left_ankle"), back.index("right_ankle")], 1].min(1)
    assert np.all(np.abs(P[:, 0, 1] - feet - 0.8) < 0.3)


def test_retarget_identity_on_smplx_skeleton(rest_joints):
    """Our own export (Mixamo names, centimetres) retargets back onto SMPL-X exactly."""
    from tests.body_models.export.conftest import random_params

    params = random_params(6, scale=0.3)
    src = smplx_motion(params, rest_joints, names="mixamo", units="cm")
    out = retarget_to_smplx(src, source_map("mixamo"), rest_joints)
    again = smplx_motion(out, rest_joints)
    want = smplx_motion(params, rest_joints).forward_kinematics()[0]
    np.testing.assert_allclose(again.forward_kinematics()[0], want, atol=1e-9)


def test_rotation_helpers():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    b[0] = -a[0]  # antiparallel
    R = minimal_rotation(a, b)
    np.testing.assert_allclose(np.einsum("tab,tb->ta", R, a / np.linalg.norm(a, axis=1)[:, None]),
                               b / np.linalg.norm(b, axis=1)[:, None], atol=1e-12)  # fmt: skip
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-12)
    true = Rotation.random(4, random_state=1).as_matrix()
    d = rng.normal(size=(5, 3))
    np.testing.assert_allclose(kabsch(d, np.einsum("tab,kb->tka", true, d)), true, atol=1e-12)


def test_retarget_bad_maps(rest_joints):
    src = read_bvh(DATA / "cmu_01_01_15fps.bvh")
    with pytest.raises(ValueError, match=r"source joints \['Tail'\] not in the BVH"):
        retarget_to_smplx(src, {"Tail": "pelvis"}, rest_joints)
    with pytest.raises(ValueError, match="SMPL-X joints \\['hips'\\] unknown"):
        retarget_to_smplx(src, {"Hips": "hips"}, rest_joints)
    with pytest.raises(ValueError, match="mapped to 'pelvis'"):
        retarget_to_smplx(src, {"LeftUpLeg": "left_hip"}, rest_joints)

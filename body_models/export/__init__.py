"""Motion files: BVH read/write, binary FBX and glTF export, retargeting (numpy only).

Modules: ``motion`` (skeleton + animation + FK), ``bvh`` / ``bvh_read``, ``fbx_binary`` /
``fbx_scene`` / ``fbx_read``, ``gltf``, ``retarget``, ``names``, ``smplx_motion`` (fitted
SMPL-X parameters -> export world frame), ``euler``, ``atomic``.
"""

from body_models.export.bvh import bvh_text, write_bvh
from body_models.export.bvh_read import parse_bvh, read_bvh
from body_models.export.fbx_read import read_fbx_motion
from body_models.export.fbx_scene import write_fbx
from body_models.export.gltf import write_glb
from body_models.export.motion import Motion, SkinnedMesh, forward_kinematics
from body_models.export.names import CMU_TO_SMPLX, joint_name_map
from body_models.export.retarget import retarget_to_smplx
from body_models.export.smplx_motion import (
    camera_to_world,
    model_rest_joints,
    smplx_end_sites,
    smplx_motion,
    smplx_skinned_mesh,
)

__all__ = [
    "CMU_TO_SMPLX",
    "Motion",
    "SkinnedMesh",
    "bvh_text",
    "camera_to_world",
    "forward_kinematics",
    "joint_name_map",
    "model_rest_joints",
    "parse_bvh",
    "read_bvh",
    "read_fbx_motion",
    "retarget_to_smplx",
    "smplx_end_sites",
    "smplx_motion",
    "smplx_skinned_mesh",
    "write_bvh",
    "write_fbx",
    "write_glb",
]

"""Motion files: BVH read/write, binary FBX and glTF export, retargeting (numpy only).

Modules: ``motion`` (skeleton + animation + FK), ``bvh`` / ``bvh_read``, ``fbx_binary`` /
``fbx_scene`` / ``fbx_read``, ``gltf``, ``retarget``, ``names``, ``smplx_motion`` (fitted
SMPL-X parameters -> export world frame), ``atomic``.
"""

from body_models.export.bvh import bvh_text, write_bvh
from body_models.export.bvh_read import parse_bvh, read_bvh
from body_models.export.motion import Motion, forward_kinematics
from body_models.export.smplx_motion import smplx_motion

__all__ = [
    "Motion",
    "bvh_text",
    "forward_kinematics",
    "parse_bvh",
    "read_bvh",
    "smplx_motion",
    "write_bvh",
]

"""Kinematic skeletons: Human3.6M-17 (VideoPose3D/MotionBERT order) and SMPL-X's 55 joints."""

from __future__ import annotations

from wholebody.keypoints.base import KeypointSet, parents_by_name, side_link_colours

# H36M-17: index 9 is the 32-joint skeleton's "neck/nose" point, 10 the head top.
H36M_PARENTS = {
    "pelvis": None, "right_hip": "pelvis", "right_knee": "right_hip",
    "right_ankle": "right_knee", "left_hip": "pelvis", "left_knee": "left_hip",
    "left_ankle": "left_knee", "spine": "pelvis", "thorax": "spine", "nose": "thorax",
    "head": "nose", "left_shoulder": "thorax", "left_elbow": "left_shoulder",
    "left_wrist": "left_elbow", "right_shoulder": "thorax", "right_elbow": "right_shoulder",
    "right_wrist": "right_elbow",
}  # fmt: skip
H36M_NAMES = tuple(H36M_PARENTS)

SMPLX_BODY_PARENTS = {
    "pelvis": None, "left_hip": "pelvis", "right_hip": "pelvis", "spine1": "pelvis",
    "left_knee": "left_hip", "right_knee": "right_hip", "spine2": "spine1",
    "left_ankle": "left_knee", "right_ankle": "right_knee", "spine3": "spine2",
    "left_foot": "left_ankle", "right_foot": "right_ankle", "neck": "spine3",
    "left_collar": "spine3", "right_collar": "spine3", "head": "neck",
    "left_shoulder": "left_collar", "right_shoulder": "right_collar",
    "left_elbow": "left_shoulder", "right_elbow": "right_shoulder",
    "left_wrist": "left_elbow", "right_wrist": "right_elbow",
    "jaw": "head", "left_eye_smplhf": "head", "right_eye_smplhf": "head",
}  # fmt: skip
# SMPL-X finger order (MANO): index, middle, pinky, ring, thumb; 3 joints each.
SMPLX_FINGERS = ("index", "middle", "pinky", "ring", "thumb")


def _smplx_parents() -> dict[str, str | None]:
    parents = dict(SMPLX_BODY_PARENTS)
    for side in ("left", "right"):
        for finger in SMPLX_FINGERS:
            prev = f"{side}_wrist"
            for k in range(1, 4):
                parents[f"{side}_{finger}{k}"] = prev
                prev = f"{side}_{finger}{k}"
    return parents


def _tree_set(name: str, parent_of: dict[str, str | None], root: str) -> KeypointSet:
    names = tuple(parent_of)
    parents = parents_by_name(names, parent_of)
    links = tuple((p, i) for i, p in enumerate(parents) if p >= 0)
    return KeypointSet(
        name=name,
        names=names,
        links=links,
        link_colours=side_link_colours(names, links),
        parents=parents,
        root=root,
    )


H36M = _tree_set("h36m", H36M_PARENTS, root="pelvis")
SMPLX_PARENTS = _smplx_parents()
SMPLX = _tree_set("smplx", SMPLX_PARENTS, root="pelvis")

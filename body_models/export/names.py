"""Joint-name maps: SMPL-X names -> Mixamo-style / Unreal-style names, and CMU -> SMPL-X.

Mixamo names follow the ``mixamorig:`` rig without its prefix (``Hips``, ``LeftUpLeg``,
``LeftHandIndex1`` ...); Unreal names follow the UE4/UE5 mannequin (``pelvis``, ``thigh_l``,
``index_01_l`` ...). SMPL-X has no metacarpals, so finger joint k maps to phalanx k.
"""

from __future__ import annotations

from wholebody.keypoints import SMPLX

NAME_STYLES = ("smplx", "mixamo", "unreal")

# SMPL-X joints that are neither fingers, jaw nor eyes: the body-only export.
BODY_JOINTS = tuple(
    n for n in SMPLX.names[:22] if n not in ("jaw", "left_eye_smplhf", "right_eye_smplhf")
)

_MIXAMO_BODY = {
    "pelvis": "Hips", "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2", "neck": "Neck",
    "head": "Head", "jaw": "Jaw", "left_eye_smplhf": "LeftEye", "right_eye_smplhf": "RightEye",
}  # fmt: skip
_MIXAMO_SIDE = {
    "hip": "UpLeg", "knee": "Leg", "ankle": "Foot", "foot": "ToeBase", "collar": "Shoulder",
    "shoulder": "Arm", "elbow": "ForeArm", "wrist": "Hand",
}  # fmt: skip
_UNREAL_BODY = {
    "pelvis": "pelvis", "spine1": "spine_01", "spine2": "spine_02", "spine3": "spine_03",
    "neck": "neck_01", "head": "head", "jaw": "jaw", "left_eye_smplhf": "eye_l",
    "right_eye_smplhf": "eye_r",
}  # fmt: skip
_UNREAL_SIDE = {
    "hip": "thigh", "knee": "calf", "ankle": "foot", "foot": "ball", "collar": "clavicle",
    "shoulder": "upperarm", "elbow": "lowerarm", "wrist": "hand",
}  # fmt: skip
_FINGERS = ("thumb", "index", "middle", "ring", "pinky")


def _build(style: str) -> dict[str, str]:
    out: dict[str, str] = {}
    body, side_map = (
        (_MIXAMO_BODY, _MIXAMO_SIDE) if style == "mixamo" else (_UNREAL_BODY, _UNREAL_SIDE)
    )
    out.update(body)
    for side in ("left", "right"):
        cap, suf = side.capitalize(), side[0]
        for part, target in side_map.items():
            out[f"{side}_{part}"] = f"{cap}{target}" if style == "mixamo" else f"{target}_{suf}"
        for finger in _FINGERS:
            for k in (1, 2, 3):
                if style == "mixamo":
                    out[f"{side}_{finger}{k}"] = f"{cap}Hand{finger.capitalize()}{k}"
                else:
                    out[f"{side}_{finger}{k}"] = f"{finger}_0{k}_{suf}"
    return out


NAME_MAPS: dict[str, dict[str, str]] = {
    "smplx": {n: n for n in SMPLX.names},
    "mixamo": _build("mixamo"),
    "unreal": _build("unreal"),
}


def joint_name_map(style: str) -> dict[str, str]:
    """SMPL-X joint name -> name in ``style`` (one of :data:`NAME_STYLES`)."""
    if style not in NAME_MAPS:
        raise ValueError(f"names: expected one of {NAME_STYLES}, got {style!r}")
    return dict(NAME_MAPS[style])


# CMU (cgspeed/MotionBuilder-friendly BVH, e.g. 01_01.bvh) joint -> SMPL-X joint. CMU's spine
# has LowerBack/Spine/Spine1 and Neck/Neck1; the hands have no per-finger chains, so fingers,
# jaw and eyes are left unmapped (identity rotations in the retargeted motion).
CMU_TO_SMPLX = {
    "Hips": "pelvis", "LowerBack": "spine1", "Spine": "spine2", "Spine1": "spine3",
    "Neck1": "neck", "Head": "head",
    "LeftUpLeg": "left_hip", "LeftLeg": "left_knee", "LeftFoot": "left_ankle",
    "LeftToeBase": "left_foot", "RightUpLeg": "right_hip", "RightLeg": "right_knee",
    "RightFoot": "right_ankle", "RightToeBase": "right_foot",
    "LeftShoulder": "left_collar", "LeftArm": "left_shoulder", "LeftForeArm": "left_elbow",
    "LeftHand": "left_wrist", "RightShoulder": "right_collar", "RightArm": "right_shoulder",
    "RightForeArm": "right_elbow", "RightHand": "right_wrist",
}  # fmt: skip


def source_map(name: str) -> dict[str, str]:
    """Built-in retargeting maps, source joint name -> SMPL-X name: ``cmu`` (CMU/cgspeed BVH)
    and the inverses of the export styles (``smplx``, ``mixamo``, ``unreal``), so files we
    export (or Mixamo/Unreal-named rigs) retarget back onto SMPL-X."""
    if name == "cmu":
        return dict(CMU_TO_SMPLX)
    if name in NAME_MAPS:
        return {v: k for k, v in NAME_MAPS[name].items()}
    raise ValueError(f"map: expected one of {('cmu',) + NAME_STYLES}, got {name!r}")

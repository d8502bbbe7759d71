"""Retarget any BVH skeleton onto SMPL-X through a joint-name map and rest-pose alignment.

For every mapped SMPL-X joint ``j`` the world rotation ``G_j(t)`` is chosen so that its bones
point where the source bones point on every frame:

- one usable bone (a mapped child whose source joints are apart at rest): start from the
  source joint's world rotation composed with the rest alignment (the minimal rotation taking
  the SMPL-X rest bone onto the source rest bone), then correct it by the minimal rotation
  that puts the bone exactly on the source direction (so the source supplies the twist);
- several bones (pelvis, spine3): the least-squares (Kabsch) rotation of the SMPL-X rest bones
  onto the source bone directions of that frame;
- no usable bone (feet, wrists): the source joint's world rotation (rest frames are aligned).

Unmapped SMPL-X joints (fingers, jaw, eyes, ...) keep identity local rotations. The root
trajectory is the source root position scaled by the ratio of leg lengths. Both skeletons
are expected in a Y-up, facing +Z frame at rest (BVH and SMPL-X convention); pass
``source_basis`` to rotate a source that uses other axes.
"""

from __future__ import annotations

import numpy as np

from body_models.export.motion import Motion
from body_models.export.smplx_motion import CAMERA_TO_Y_UP
from wholebody.keypoints import SMPLX
from wholebody.rotations import matrix_to_axis_angle

_EPS = 1e-9


def minimal_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3, 3) smallest rotations taking directions a (..., 3) onto b (..., 3)."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    v = np.cross(a, b)
    c = np.sum(a * b, axis=-1)
    # 180 degrees: rotate by pi about any axis orthogonal to a
    ortho = np.cross(a, np.where(np.abs(a[..., :1]) < 0.9, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]))
    ortho /= np.linalg.norm(ortho, axis=-1, keepdims=True)
    flip = c < -1.0 + 1e-12
    zero = np.zeros_like(c)
    K = np.stack(
        [zero, -v[..., 2], v[..., 1], v[..., 2], zero, -v[..., 0], -v[..., 1], v[..., 0], zero],
        axis=-1,
    ).reshape(v.shape[:-1] + (3, 3))
    R = np.eye(3) + K + (K @ K) / np.where(flip, 1.0, 1.0 + c)[..., None, None]
    R_flip = 2.0 * ortho[..., :, None] * ortho[..., None, :] - np.eye(3)
    return np.where(flip[..., None, None], R_flip, R)


def kabsch(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotations R minimising sum_k |R src_k - dst_k(t)|^2; src (K, 3), dst (T, K, 3)."""
    H = np.einsum("ka,tkb->tab", src, dst)  # (T, 3, 3)
    U, _, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(Vt.transpose(0, 2, 1) @ U.transpose(0, 2, 1)))
    D = np.tile(np.eye(3), (len(H), 1, 1))
    D[:, 2, 2] = d
    return Vt.transpose(0, 2, 1) @ D @ U.transpose(0, 2, 1)


def _leg_length(rest: np.ndarray, chain: list[int]) -> float:
    return float(sum(np.linalg.norm(rest[b] - rest[a]) for a, b in zip(chain, chain[1:])))


def retarget_world_rotations(
    source: Motion,
    name_map: dict[str, str],
    rest_joints: np.ndarray,
    source_basis: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """SMPL-X world rotations (T, 55, 3, 3), pelvis positions (T, 3) and the length scale.

    Args:
        source: the source motion (any units).
        name_map: source joint name -> SMPL-X joint name.
        rest_joints: (55, 3) SMPL-X rest joints (model frame, metres).
        source_basis: (3, 3) rotation from the source world into a Y-up, facing +Z frame.
    """
    J_rest = np.asarray(rest_joints, dtype=np.float64)
    if J_rest.shape != (55, 3):
        raise ValueError(f"rest_joints: expected shape (55, 3), got {J_rest.shape}")
    unknown = sorted(set(name_map) - set(source.names))
    bad_targets = sorted(set(name_map.values()) - set(SMPLX.names))
    if unknown or bad_targets:
        raise ValueError(
            f"name_map: source joints {unknown} not in the BVH, SMPL-X joints {bad_targets} unknown"
        )
    if "pelvis" not in name_map.values():
        raise ValueError("name_map: expected a source joint mapped to 'pelvis'")
    B = np.eye(3) if source_basis is None else np.asarray(source_basis, dtype=np.float64)
    src = source.transformed(B)
    P, G = src.forward_kinematics()  # (T, Js, 3), (T, Js, 3, 3)
    P_rest = src.rest_positions()
    to_src = {tgt: src.index(s) for s, tgt in name_map.items()}
    parents = SMPLX.parents
    T = source.num_frames
    G_t = np.zeros((T, 55, 3, 3))
    scale_ref = np.linalg.norm(P_rest.max(0) - P_rest.min(0)) + _EPS
    for j, name in enumerate(SMPLX.names):
        if name not in to_src:
            G_t[:, j] = G_t[:, parents[j]] if parents[j] >= 0 else np.eye(3)
            continue
        sj = to_src[name]
        bones = []
        for c in (c for c, p in enumerate(parents) if p == j):
            if SMPLX.names[c] not in to_src:
                continue
            sc = to_src[SMPLX.names[c]]
            if np.linalg.norm(P_rest[sc] - P_rest[sj]) > 1e-6 * scale_ref:
                bones.append((J_rest[c] - J_rest[j], P_rest[sc] - P_rest[sj], P[:, sc] - P[:, sj]))
        if len(bones) == 1:
            d_t, d_s, u = bones[0]
            guess = G[:, sj] @ minimal_rotation(d_t, d_s)
            G_t[:, j] = minimal_rotation(guess @ d_t, u) @ guess
        elif len(bones) > 1:
            d = np.stack([b[0] / np.linalg.norm(b[0]) for b in bones])
            u = np.stack([b[2] / np.linalg.norm(b[2], axis=-1, keepdims=True) for b in bones], 1)
            G_t[:, j] = kabsch(d, u)
        else:
            G_t[:, j] = G[:, sj]
    legs_t = [SMPLX.index(n) for n in ("left_hip", "left_knee", "left_ankle")]
    legs_s = [to_src.get(n) for n in ("left_hip", "left_knee", "left_ankle")]
    if None in legs_s:
        scale = 1.0
    else:
        scale = _leg_length(J_rest, legs_t) / max(_leg_length(P_rest, legs_s), _EPS)
    pelvis = scale * P[:, to_src["pelvis"]]
    return G_t, pelvis, scale


def retarget_to_smplx(
    source: Motion,
    name_map: dict[str, str],
    rest_joints: np.ndarray,
    betas=None,
    source_basis: np.ndarray | None = None,
    frame: str = "camera",
) -> dict[str, np.ndarray]:
    """Retarget ``source`` onto SMPL-X -> parameter dict (the fitting command's keys).

    ``frame="camera"`` returns parameters in the OpenCV camera frame of the fitting contract
    (camera = Y-up world seen with x right, y down, z = -world z), so
    :func:`smplx_motion` reproduces the retargeted world motion with ``up="y"``;
    ``frame="y_up"`` returns them in SMPL-X's own Y-up frame.
    """
    if frame not in ("camera", "y_up"):
        raise ValueError(f"frame: expected 'camera' or 'y_up', got {frame!r}")
    G, pelvis, _ = retarget_world_rotations(source, name_map, rest_joints, source_basis)
    local = G.copy()
    par = np.asarray(SMPLX.parents)
    local[:, 1:] = np.swapaxes(G[:, par[1:]], -1, -2) @ G[:, 1:]
    aa = matrix_to_axis_angle(local)  # (T, 55, 3)
    T = aa.shape[0]
    J0 = np.asarray(rest_joints, dtype=np.float64)[0]
    if frame == "camera":
        aa[:, 0] = matrix_to_axis_angle(CAMERA_TO_Y_UP @ G[:, 0])
        transl = pelvis @ CAMERA_TO_Y_UP.T - J0
    else:
        transl = pelvis - J0
    flat = aa.reshape(T, -1)
    b = np.zeros(10) if betas is None else np.asarray(betas, dtype=np.float64)
    return {
        "betas": b,
        "global_orient": flat[:, 0:3],
        "body_pose": flat[:, 3:66],
        "jaw_pose": flat[:, 66:69],
        "leye_pose": flat[:, 69:72],
        "reye_pose": flat[:, 72:75],
        "left_hand_pose": flat[:, 75:120],
        "right_hand_pose": flat[:, 120:165],
        "transl": transl,
    }

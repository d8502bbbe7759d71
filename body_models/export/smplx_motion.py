"""SMPL-X parameter sequences -> :class:`Motion` in an export world frame.

Axis and unit conversion (documented contract of every exporter):

- Fitted parameters live in the OpenCV camera frame (x right, y down, z forward, metres).
- ``up="y"`` world = (x, -y, -z) of the camera frame: Y up, a person facing the camera faces +Z
  (SMPL-X's own rest frame, the BVH convention).
- ``up="z"`` world = (x, z, -y) of the camera frame: Z up, the person faces -Y (Blender's front
  view); the rest skeleton is rotated too, so it stands along +Z.
- ``units="cm"`` multiplies every length by 100.

The skeleton uses SMPL-X's kinematic tree and rest offsets ``J_rest[j] - J_rest[parent]`` of
the fitted shape; the root position channel is ``J_rest[0] + transl`` (global_orient pivots
about the pelvis), so this motion's forward kinematics equals SMPL-X's posed joints exactly.
"""

from __future__ import annotations

import numpy as np

from body_models.export.motion import Motion, SkinnedMesh
from body_models.export.names import BODY_JOINTS, joint_name_map
from wholebody.keypoints import SMPLX

POSE_KEYS = (
    ("global_orient", 1), ("body_pose", 21), ("jaw_pose", 1), ("leye_pose", 1), ("reye_pose", 1),
    ("left_hand_pose", 15), ("right_hand_pose", 15),
)  # fmt: skip
CAMERA_TO_Y_UP = np.diag([1.0, -1.0, -1.0])
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
UNIT_SCALE = {"m": 1.0, "cm": 100.0}


def axis_angle_to_matrix(aa: np.ndarray) -> np.ndarray:
    """(..., 3) rotation vectors -> (..., 3, 3) (Rodrigues, vectorised, exact at 0)."""
    aa = np.asarray(aa, dtype=np.float64)
    theta = np.linalg.norm(aa, axis=-1, keepdims=True)[..., None]  # (..., 1, 1)
    small = theta < 1e-8
    safe = np.where(small, 1.0, theta)
    x, y, z = aa[..., 0], aa[..., 1], aa[..., 2]
    zero = np.zeros_like(x)
    K = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], axis=-1).reshape(aa.shape[:-1] + (3, 3))
    a = np.where(small, 1.0, np.sin(safe) / safe)
    b = np.where(small, 0.5, (1.0 - np.cos(safe)) / safe**2)
    return np.eye(3) + a * K + b * (K @ K)


def full_pose_matrices(params: dict) -> np.ndarray:
    """(T, 55, 3, 3) local rotations in SMPL-X joint order from axis-angle parameters.

    Missing jaw/eye/hand keys are zero (flat hands: ``flat_hand_mean=True``).
    """
    if "global_orient" not in params or "body_pose" not in params:
        raise ValueError(f"params: expected global_orient and body_pose, got keys {sorted(params)}")
    T = np.asarray(params["global_orient"]).reshape(-1, 3).shape[0]
    blocks = []
    for key, n in POSE_KEYS:
        if key in params and params[key] is not None:
            arr = np.asarray(params[key], dtype=np.float64)
            if arr.size != T * n * 3:
                raise ValueError(f"{key}: expected shape ({T}, {3 * n}), got {arr.shape}")
            arr = arr.reshape(T, n, 3)
        else:
            arr = np.zeros((T, n, 3))
        if not np.all(np.isfinite(arr)):
            t = int(np.argwhere(~np.isfinite(arr))[0, 0])
            raise ValueError(f"{key}: expected finite rotations, got NaN/inf at frame {t}")
        blocks.append(arr)
    return axis_angle_to_matrix(np.concatenate(blocks, axis=1))


def smplx_motion(
    params: dict,
    rest_joints: np.ndarray,
    fps: float = 30.0,
    up: str = "y",
    units: str = "m",
    names: str = "smplx",
    body_only: bool = False,
    end_sites: dict[str, np.ndarray] | None = None,
) -> Motion:
    """Build the export motion of a fitted SMPL-X sequence.

    Args:
        params: axis-angle ``global_orient`` (T, 3), ``body_pose`` (T, 63), optional jaw/eye
            (T, 3) and hand (T, 45) poses, ``transl`` (T, 3); camera frame, metres.
        rest_joints: (55, 3) rest joints of the fitted shape (model frame, metres).
        fps: frames per second.
        up: ``"y"`` or ``"z"`` (see module docstring). units: ``"m"`` or ``"cm"``.
        names: joint-name style, ``"smplx"``, ``"mixamo"`` or ``"unreal"``.
        body_only: keep the 22 body joints (no jaw, eyes, fingers).
        end_sites: SMPL-X leaf joint name -> (3,) End Site offset in the model frame (metres),
            e.g. from :func:`smplx_end_sites`; other leaves get half their bone.
    """
    if up not in ("y", "z"):
        raise ValueError(f"up: expected 'y' or 'z', got {up!r}")
    if units not in UNIT_SCALE:
        raise ValueError(f"units: expected one of {sorted(UNIT_SCALE)}, got {units!r}")
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps: expected a positive number, got {fps}")
    J_rest = np.asarray(rest_joints, dtype=np.float64)
    if J_rest.shape != (SMPLX.num_keypoints, 3):
        raise ValueError(
            f"rest_joints: expected shape ({SMPLX.num_keypoints}, 3), got {J_rest.shape}"
        )
    rot = full_pose_matrices(params)
    T = rot.shape[0]
    transl = np.asarray(params.get("transl", np.zeros((T, 3))), dtype=np.float64).reshape(-1, 3)
    if transl.shape != (T, 3) or not np.all(np.isfinite(transl)):
        raise ValueError(f"transl: expected finite values of shape ({T}, 3), got {transl.shape}")
    parents = np.asarray(SMPLX.parents)
    offsets = J_rest - np.where(parents[:, None] >= 0, J_rest[np.maximum(parents, 0)], 0.0)
    rot[:, 0] = CAMERA_TO_Y_UP @ rot[:, 0]
    root = (J_rest[0] + transl) @ CAMERA_TO_Y_UP.T
    motion = Motion(
        names=SMPLX.names,
        parents=SMPLX.parents,
        offsets=offsets,
        rotations=rot,
        positions={0: root},
        frame_time=1.0 / fps,
        end_sites={SMPLX.index(n): v for n, v in (end_sites or {}).items()},
    )
    if body_only:
        motion = motion.subset(BODY_JOINTS)
    basis = Y_UP_TO_Z_UP if up == "z" else np.eye(3)
    motion = motion.transformed(basis, UNIT_SCALE[units])
    return motion.renamed(joint_name_map(names))


def camera_to_world(points: np.ndarray, up: str = "y", units: str = "m") -> np.ndarray:
    """Map (..., 3) camera-frame points (metres) into the export world of ``up``/``units``."""
    C = (Y_UP_TO_Z_UP if up == "z" else np.eye(3)) @ CAMERA_TO_Y_UP
    return UNIT_SCALE[units] * np.asarray(points, dtype=np.float64) @ C.T


def shaped_vertices(model, betas=None) -> np.ndarray:
    """(V, 3) rest vertices ``v_template + shapedirs @ betas`` (model frame, metres)."""
    v = np.asarray(model.v_template, dtype=np.float64)
    if betas is None:
        return v
    b = np.asarray(betas, dtype=np.float64).reshape(-1)
    if b.size > model.shapedirs.shape[2]:
        raise ValueError(f"betas: expected at most {model.shapedirs.shape[2]} values, got {b.size}")
    return v + model.shapedirs[..., : b.size] @ b


def model_rest_joints(model, betas=None) -> np.ndarray:
    """(55, 3) rest joints ``J_regressor @ shaped_vertices`` (model frame, metres)."""
    return np.asarray(model.J_regressor, dtype=np.float64) @ shaped_vertices(model, betas)


def smplx_skinned_mesh(
    model, betas=None, up: str = "y", units: str = "m", body_only: bool = False
) -> SkinnedMesh:
    """The fitted shape's rest mesh in the export world of :func:`smplx_motion`.

    Pose correctives and expressions are not exported (plain linear blend skinning). With
    ``body_only`` the weights of dropped joints (fingers, jaw, eyes) move to their nearest
    kept ancestor (wrists, head).
    """
    basis = Y_UP_TO_Z_UP if up == "z" else np.eye(3)
    verts = UNIT_SCALE[units] * shaped_vertices(model, betas) @ basis.T
    weights = np.asarray(model.weights, dtype=np.float64)
    if body_only:
        keep = [SMPLX.index(n) for n in BODY_JOINTS]
        kept = np.zeros_like(weights[:, keep])
        pos = {j: k for k, j in enumerate(keep)}
        for j in range(weights.shape[1]):
            a = j
            while a not in pos:
                a = SMPLX.parents[a]
            kept[:, pos[a]] += weights[:, j]
        weights = kept
    return SkinnedMesh(vertices=verts, faces=np.asarray(model.faces), weights=weights)


def smplx_end_sites(model, betas=None) -> dict[str, np.ndarray]:
    """End Site offsets (model frame, metres) of the finger and foot leaves from the surface.

    Fingertips and big toes are the model file's COCO-WholeBody surface keypoints
    (``{side}_{finger}4``, ``{side}_big_toe``) on the shaped rest mesh; keypoints that the
    file maps to joints instead are skipped.
    """
    from body_models.keypoint_map import FINGER_TO_SMPLX
    from wholebody.keypoints import COCO_WHOLEBODY

    verts = shaped_vertices(model, betas)
    joints = np.asarray(model.J_regressor, dtype=np.float64) @ verts
    faces = np.asarray(model.faces)
    leaves = {f"{side}_foot": f"{side}_big_toe" for side in ("left", "right")}
    for side in ("left", "right"):
        for coco, smplx_finger in FINGER_TO_SMPLX.items():
            leaves[f"{side}_{smplx_finger}3"] = f"{side}_{coco}4"
    out = {}
    for joint, kpt in leaves.items():
        k = COCO_WHOLEBODY.index(kpt)
        if model.kpt_joint_ids[k] >= 0 or model.kpt_face_ids[k] < 0:
            continue
        point = model.kpt_bary[k] @ verts[faces[model.kpt_face_ids[k]]]
        out[joint] = point - joints[SMPLX.index(joint)]
    return out

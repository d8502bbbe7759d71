"""Random SMPL-X-layout model files (for tests and users without licensed files).

The body is a crude humanoid: a 55-joint SMPL-X skeleton in the model frame (Y up, facing +Z,
subject's left = +X), vertex clusters along each bone, six "ring" vertices around each joint that
the joint regressor averages, random smooth shape/expression bases and small random pose
correctives. The smplx vertex picks (nose 9120, fingertips, toes, ...) are placed where their
names say, so the default COCO-WholeBody keypoint map is meaningful. Loads in ``smplx``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from body_models.keypoint_map import BODY_VERTEX_IDS, FINGER_TO_SMPLX, FINGERTIP_VERTEX_IDS
from wholebody.keypoints import SMPLX

# Offsets (metres) of each body joint from its parent, left side; the right side mirrors x.
_BODY_OFFSETS = {
    "pelvis": (0.0, -0.35, 0.0), "left_hip": (0.09, -0.09, 0.0), "spine1": (0.0, 0.11, -0.01),
    "left_knee": (0.01, -0.38, 0.0), "spine2": (0.0, 0.13, 0.01), "left_ankle": (0.0, -0.40, -0.04),
    "spine3": (0.0, 0.05, 0.0), "left_foot": (0.0, -0.05, 0.12), "neck": (0.0, 0.22, -0.03),
    "left_collar": (0.07, 0.12, 0.0), "head": (0.0, 0.09, 0.05), "left_shoulder": (0.11, 0.03, 0.0),
    "left_elbow": (0.26, 0.0, -0.01), "left_wrist": (0.25, 0.0, 0.0), "jaw": (0.0, 0.0, 0.04),
    "left_eye_smplhf": (0.03, 0.06, 0.08),
}  # fmt: skip
_FINGER_BASE = {
    "index": (0.09, 0.0, 0.03), "middle": (0.095, 0.0, 0.01), "ring": (0.09, 0.0, -0.012),
    "pinky": (0.08, 0.0, -0.035), "thumb": (0.03, -0.01, 0.04),
}  # fmt: skip
_HEAD_POINTS = {  # surface picks relative to the head joint
    "nose": (0.0, 0.0, 0.11), "left_eye": (0.03, 0.04, 0.09), "right_eye": (-0.03, 0.04, 0.09),
    "left_ear": (0.08, 0.02, 0.0), "right_ear": (-0.08, 0.02, 0.0),
}  # fmt: skip
_FOOT_POINTS = {  # relative to the ankle joint
    "big_toe": (0.02, -0.06, 0.17), "small_toe": (0.06, -0.06, 0.14), "heel": (0.0, -0.07, -0.06),
}  # fmt: skip
VALID_SPLITS = ((10, 10), (300, 100))


def _mirror(name: str) -> str:
    return name.replace("left", "right") if name.startswith("left") else name


def rest_skeleton(rng: np.random.Generator, jitter: float = 0.005) -> np.ndarray:
    """``(55, 3)`` joint positions of a T-pose humanoid in SMPL-X joint order."""
    offsets: dict[str, np.ndarray] = {}
    for name, off in _BODY_OFFSETS.items():
        offsets[name] = np.array(off)
        if name.startswith("left"):
            offsets[_mirror(name)] = np.array(off) * (-1.0, 1.0, 1.0)
    for side, sx in (("left", 1.0), ("right", -1.0)):
        for finger, base in _FINGER_BASE.items():
            step = (0.025, -0.005, 0.02) if finger == "thumb" else (0.032, 0.0, 0.0)
            for k, off in ((1, base), (2, step), (3, np.array(step) * 0.8)):
                offsets[f"{side}_{finger}{k}"] = np.array(off) * (sx, 1.0, 1.0)
    joints = np.zeros((SMPLX.num_keypoints, 3))
    for i, name in enumerate(SMPLX.names):
        p = SMPLX.parents[i]
        long_bone = np.linalg.norm(offsets[name]) > 0.05
        off = offsets[name] + rng.normal(scale=jitter, size=3) * long_bone
        joints[i] = off if p < 0 else joints[p] + off
    return joints


def _bone_vectors(joints: np.ndarray) -> np.ndarray:
    """Per joint: mean offset to its children, or half its own offset past a leaf."""
    parents = np.asarray(SMPLX.parents)
    out = np.zeros_like(joints)
    for j in range(len(joints)):
        kids = np.nonzero(parents == j)[0]
        if kids.size:
            out[j] = (joints[kids] - joints[j]).mean(0)
        elif parents[j] >= 0:
            out[j] = 0.6 * (joints[j] - joints[parents[j]])
    return out


def _named_vertices(joints: np.ndarray) -> dict[int, tuple[int, np.ndarray]]:
    """Vertex id -> (owning joint, position) for the smplx vertex picks."""
    idx = SMPLX.index
    out: dict[int, tuple[int, np.ndarray]] = {}
    for name, rel in _HEAD_POINTS.items():
        out[BODY_VERTEX_IDS[name]] = (idx("head"), joints[idx("head")] + rel)
    for side, sx in (("left", 1.0), ("right", -1.0)):
        ankle = idx(f"{side}_ankle")
        for name, rel in _FOOT_POINTS.items():
            pos = joints[ankle] + np.array(rel) * (sx, 1.0, 1.0)
            out[BODY_VERTEX_IDS[f"{side}_{name}"]] = (idx(f"{side}_foot"), pos)
        for finger, vid in FINGERTIP_VERTEX_IDS[side].items():
            j3 = idx(f"{side}_{FINGER_TO_SMPLX[finger]}3")
            tip = joints[j3] + 0.7 * (joints[j3] - joints[SMPLX.parents[j3]])
            out[vid] = (j3, tip)
    return out


def random_model_arrays(
    num_vertices: int = 10475, num_shape: int = 10, num_expr: int = 10, seed: int = 0
) -> dict[str, np.ndarray]:
    """The arrays of a random SMPL-X-layout file under smplx's key names."""
    if (num_shape, num_expr) not in VALID_SPLITS:
        raise ValueError(
            f"num_shape, num_expr: expected one of {VALID_SPLITS} (smplx's shapedirs split rule), "
            f"got ({num_shape}, {num_expr})"
        )
    if num_vertices < 10475:
        raise ValueError(f"num_vertices: expected >= 10475 (SMPL-X topology), got {num_vertices}")
    rng = np.random.default_rng(seed)
    J = SMPLX.num_keypoints
    parents = np.asarray(SMPLX.parents)
    joints = rest_skeleton(rng)
    bones = _bone_vectors(joints)
    is_finger = np.array([any(f in n for f in _FINGER_BASE) for n in SMPLX.names])
    radius = np.where(is_finger, 0.008, 0.05)
    radius[SMPLX.index("head")] = 0.08

    V = num_vertices
    owner = np.empty(V, dtype=np.int64)
    verts = np.empty((V, 3))
    ring_dirs = np.concatenate([np.eye(3), -np.eye(3)])  # 6 vertices around each joint
    ring = np.arange(6 * J).reshape(J, 6) + (V - 6 * J)  # last 6*J vertex ids
    for j in range(J):
        owner[ring[j]] = j
        verts[ring[j]] = joints[j] + ring_dirs * radius[j]
    free = np.arange(V - 6 * J)
    owner[free] = rng.integers(0, J, size=free.size)
    s = rng.uniform(0.0, 1.0, size=free.size)[:, None]
    radial = rng.normal(size=(free.size, 3))
    radial *= radius[owner[free], None] / np.linalg.norm(radial, axis=1, keepdims=True)
    verts[free] = joints[owner[free]] + s * bones[owner[free]] + radial
    for vid, (j, pos) in _named_vertices(joints).items():
        owner[vid], verts[vid] = j, pos

    weights = np.zeros((V, J))
    w_own = rng.uniform(0.6, 1.0, size=V)
    w_own[ring.ravel()] = 1.0
    w_own[parents[owner] < 0] = 1.0
    weights[np.arange(V), owner] = w_own
    has_parent = parents[owner] >= 0
    weights[np.arange(V)[has_parent], parents[owner[has_parent]]] += 1.0 - w_own[has_parent]

    J_regressor = np.zeros((J, V))
    J_regressor[np.repeat(np.arange(J), 6), ring.ravel()] = 1.0 / 6.0

    order = np.argsort(owner, kind="stable")  # triangles of consecutive vertices of one joint
    faces = np.stack([order[:-2], order[1:-1], order[2:]], axis=1).astype(np.int64)

    centred = verts - joints[0]
    S = num_shape + num_expr
    shapedirs = np.zeros((V, 3, S))
    for k in range(num_shape):  # smooth: a random linear map of position plus a per-joint shift
        A = rng.normal(scale=0.03, size=(3, 3))
        shift = rng.normal(scale=0.004, size=(J, 3))
        shapedirs[:, :, k] = centred @ A.T + shift[owner]
    head_like = np.isin(owner, [SMPLX.index(n) for n in ("head", "jaw")])
    face_surface = head_like.copy()
    face_surface[ring.ravel()] = False  # expressions move the face, not the joints
    for k in range(num_expr):
        shapedirs[face_surface, :, num_shape + k] = rng.normal(
            scale=0.003, size=(face_surface.sum(), 3)
        )

    head_faces = np.nonzero(np.all(head_like[faces], axis=1))[0]
    lmk_faces = rng.choice(head_faces, size=51, replace=False)
    lmk_bary = rng.dirichlet(np.ones(3), size=51)
    dyn_faces = rng.choice(head_faces, size=(79, 17))
    dyn_bary = rng.dirichlet(np.ones(3), size=(79, 17))
    Q_l = np.linalg.qr(rng.normal(size=(45, 45)))[0]
    Q_r = np.linalg.qr(rng.normal(size=(45, 45)))[0]
    kintree = np.stack([parents, np.arange(J)]).astype(np.int64)
    kintree[0, 0] = -1
    return {
        "v_template": verts,
        "f": faces,
        "shapedirs": shapedirs,
        "posedirs": rng.normal(scale=2e-4, size=(V, 3, (J - 1) * 9)),  # ~1 mm correctives
        "J_regressor": J_regressor,
        "weights": weights,
        "kintree_table": kintree,
        "hands_componentsl": Q_l,
        "hands_componentsr": Q_r,
        "hands_meanl": rng.normal(scale=0.1, size=45),
        "hands_meanr": rng.normal(scale=0.1, size=45),
        "lmk_faces_idx": lmk_faces.astype(np.int64),
        "lmk_bary_coords": lmk_bary,
        "dynamic_lmk_faces_idx": dyn_faces.astype(np.int64),
        "dynamic_lmk_bary_coords": dyn_bary,
    }


def random_model_file(
    path: str | Path,
    num_vertices: int = 10475,
    num_shape: int = 10,
    num_expr: int = 10,
    seed: int = 0,
) -> Path:
    """Write a random SMPL-X-layout ``.npz`` (float32 like the official files) and return its path.

    ``path`` may be a file name or a folder; a folder gets ``smplx/SMPLX_NEUTRAL.npz`` so that
    ``smplx.create(folder, model_type="smplx")`` finds it.
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path / "smplx" / "SMPLX_NEUTRAL.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = random_model_arrays(num_vertices, num_shape, num_expr, seed)
    arrays = {k: v.astype(np.float32) if v.dtype == np.float64 else v for k, v in arrays.items()}
    np.savez(path, **arrays)
    return path

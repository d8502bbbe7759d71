"""The 133-point COCO-WholeBody keypoint map and SMPL-X landmark arrays of the open body.

Each COCO-WholeBody point is either a SMPL-X joint (``joint_ids >= 0``) or a surface point
(triangle ``face_ids`` + barycentric ``bary``):

- body joints (shoulders, elbows, wrists, hips, knees, ankles): the SMPL-X joints (Anny's COCO
  regressor offsets from them are reported in the build metadata);
- nose, eyes, ears, toes, heels: the mesh vertex nearest Anny's bundled COCO regressor output;
- face: the 68 landmarks of :mod:`body_models.open_body.face68`;
- hands: root = wrist joint, finger points 1-3 = the SMPL-X finger joints, point 4 = the
  fingertip vertex (farthest along the distal phalanx).
"""

from __future__ import annotations

import numpy as np

from body_models.open_body.rig_map import SMPLX_JOINT_NAMES
from body_models.open_body.surface import SurfacePoint, vertex_point
from wholebody.keypoints import COCO_WHOLEBODY

_JOINT_BODY = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
_SURFACE_BODY = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_big_toe", "left_small_toe",
    "left_heel", "right_big_toe", "right_small_toe", "right_heel",
)  # fmt: skip
_COCO_FINGERS = {"thumb": "thumb", "forefinger": "index", "middle_finger": "middle",
                 "ring_finger": "ring", "pinky_finger": "pinky"}  # fmt: skip
_TIP_ORDER = ("thumb", "forefinger", "middle_finger", "ring_finger", "pinky_finger")

# Vertex ids smplx hard-codes for its extra joints 55-75 (vertex_ids.py, SMPL-X topology), with
# the COCO-WholeBody name that means the same point. The builder reorders vertices so these
# ids land on the matching open-body vertices.
SMPLX_VERTEX_IDS = {
    "nose": 9120, "right_eye": 9929, "left_eye": 9448, "right_ear": 616, "left_ear": 6,
    "left_big_toe": 5770, "left_small_toe": 5780, "left_heel": 8846,
    "right_big_toe": 8463, "right_small_toe": 8474, "right_heel": 8635,
    "left_thumb4": 5361, "left_forefinger4": 4933, "left_middle_finger4": 5058,
    "left_ring_finger4": 5169, "left_pinky_finger4": 5286,
    "right_thumb4": 8079, "right_forefinger4": 7669, "right_middle_finger4": 7794,
    "right_ring_finger4": 7905, "right_pinky_finger4": 8022,
}  # fmt: skip


def fingertip_vertices(template, joints, weights) -> dict[str, int]:
    """COCO-WholeBody fingertip name -> vertex farthest along the distal phalanx of that finger."""
    out = {}
    for side in ("left", "right"):
        for coco, smplx in _COCO_FINGERS.items():
            j3 = SMPLX_JOINT_NAMES.index(f"{side}_{smplx}3")
            j2 = SMPLX_JOINT_NAMES.index(f"{side}_{smplx}2")
            direction = joints[j3] - joints[j2]
            pool = np.flatnonzero(weights[:, j3] > 0.5)
            proj = (template[pool] - joints[j3]) @ direction
            out[f"{side}_{coco}4"] = int(pool[np.argmax(proj)])
    return out


def surface_body_vertices(template, coco_points, coco_labels) -> dict[str, int]:
    """Surface-like COCO body/feet name -> mesh vertex nearest Anny's regressed point."""
    labels = list(coco_labels)
    out = {}
    for name in _SURFACE_BODY:
        p = coco_points[labels.index(name)]
        out[name] = int(np.argmin(np.linalg.norm(template - p, axis=1)))
    return out


def build_keypoint_map(faces, face68: list[SurfacePoint], vertex_picks: dict[str, int]):
    """(joint_ids (133,), face_ids (133,), bary (133, 3)) for all COCO-WholeBody points."""
    names = COCO_WHOLEBODY.names
    joint_ids = np.full(len(names), -1, dtype=np.int64)
    face_ids = np.full(len(names), -1, dtype=np.int64)
    bary = np.zeros((len(names), 3))

    def put_surface(k, point: SurfacePoint):
        face_ids[k], bary[k] = point.face, point.bary

    for k, name in enumerate(names):
        if name in _JOINT_BODY:
            joint_ids[k] = SMPLX_JOINT_NAMES.index(name)
        elif name in vertex_picks:
            put_surface(k, vertex_point(vertex_picks[name], faces))
        elif name.startswith("face-"):
            put_surface(k, face68[int(name.split("-")[1])])
        elif name.endswith("_hand_root"):
            joint_ids[k] = SMPLX_JOINT_NAMES.index(name.replace("_hand_root", "_wrist"))
        else:
            side, rest = name.split("_", 1)
            finger, number = rest[:-1], rest[-1]
            if finger not in _COCO_FINGERS or number not in "123":
                raise ValueError(f"no rule for COCO-WholeBody point {name!r}")
            joint_ids[k] = SMPLX_JOINT_NAMES.index(f"{side}_{_COCO_FINGERS[finger]}{number}")
    missing = (joint_ids < 0) & (face_ids < 0)
    if missing.any():
        raise ValueError(f"unmapped points: {[names[i] for i in np.flatnonzero(missing)]}")
    return joint_ids, face_ids, bary


def smplx_landmarks(face68: list[SurfacePoint]):
    """SMPL-X static landmarks (51 = iBUG 17-67) and static contour (17 = iBUG 0-16) arrays.

    Returns lmk_faces_idx (51,), lmk_bary_coords (51, 3), dynamic_lmk_faces_idx (79, 17) and
    dynamic_lmk_bary_coords (79, 17, 3); the contour is the frontal one for every yaw bin.
    """
    lmk_faces = np.array([p.face for p in face68[17:]], dtype=np.int64)
    lmk_bary = np.array([p.bary for p in face68[17:]])
    contour_faces = np.array([p.face for p in face68[:17]], dtype=np.int64)
    contour_bary = np.array([p.bary for p in face68[:17]])
    return (
        lmk_faces,
        lmk_bary,
        np.tile(contour_faces, (79, 1)),
        np.tile(contour_bary, (79, 1, 1)),
    )


def smplx_vertex_order(num_vertices: int, vertex_picks: dict[str, int]) -> np.ndarray:
    """Permutation ``order`` (new vertex i = old vertex order[i]) putting each picked vertex at
    the id smplx hard-codes for that point; other vertices keep their relative order."""
    order = np.full(num_vertices, -1, dtype=np.int64)
    used = set()
    for name, new_id in SMPLX_VERTEX_IDS.items():
        old = vertex_picks[name]
        if old in used:
            raise ValueError(f"vertex {old} picked twice ({name})")
        order[new_id] = old
        used.add(old)
    rest = [v for v in range(num_vertices) if v not in used]
    order[order < 0] = rest
    return order

"""Default COCO-WholeBody (133) keypoint map for files with the official SMPL-X topology.

Each of the 133 keypoints is either an SMPL-X joint (``joint id >= 0``) or a surface point given by
a triangle and barycentric coordinates. The choices follow the public SMPL-X conventions (smplx's
extra joints, SMPLify-X's OpenPose map, mmhuman3d's by-name COCO-WholeBody map; see
``shared/reference/body_models_export.md`` §1.4 and §1.7):

- body: nose, eyes, ears are the smplx vertex picks (9120, 9448/9929, 6/616); shoulders, elbows,
  wrists, hips, knees and ankles are the SMPL-X joints of the same name;
- feet: big toe, small toe, heel vertices (left 5770, 5780, 8846; right 8463, 8474, 8635);
- face: ``face-0..16`` (jaw contour) are the frontal bin (yaw 0) of the file's dynamic contour
  landmarks when present, else the jaw joint; ``face-17..67`` are the 51 static landmarks in order;
- hands: root = wrist joint, finger points 1-3 = the SMPL-X finger joints (forefinger = index),
  point 4 = the fingertip vertex (left 5361, 4933, 5058, 5169, 5286; right 8079, 7669, 7794, 7905,
  8022 for thumb, index, middle, ring, pinky).

Files built for another topology (such as the open body) carry their own map in the file.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from wholebody.keypoints import COCO_WHOLEBODY, SMPLX

logger = logging.getLogger(__name__)

# Vertex picks on the official SMPL-X mesh (also used by the synthetic generator).
BODY_VERTEX_IDS = {
    "nose": 9120, "right_eye": 9929, "left_eye": 9448, "right_ear": 616, "left_ear": 6,
    "left_big_toe": 5770, "left_small_toe": 5780, "left_heel": 8846,
    "right_big_toe": 8463, "right_small_toe": 8474, "right_heel": 8635,
}  # fmt: skip
FINGERTIP_VERTEX_IDS = {
    "left": {"thumb": 5361, "forefinger": 4933, "middle_finger": 5058, "ring_finger": 5169,
             "pinky_finger": 5286},
    "right": {"thumb": 8079, "forefinger": 7669, "middle_finger": 7794, "ring_finger": 7905,
              "pinky_finger": 8022},
}  # fmt: skip
# COCO-WholeBody finger word -> SMPL-X finger word.
FINGER_TO_SMPLX = {
    "thumb": "thumb", "forefinger": "index", "middle_finger": "middle",
    "ring_finger": "ring", "pinky_finger": "pinky",
}  # fmt: skip
BODY_JOINT_NAMES = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
MAX_VERTEX_ID = max(
    max(BODY_VERTEX_IDS.values()), *(max(d.values()) for d in FINGERTIP_VERTEX_IDS.values())
)
NUM_CONTOUR = 17
NUM_STATIC_FACE = 51


def _vertex_face(faces: np.ndarray, vid: int) -> tuple[int, np.ndarray]:
    """A triangle containing vertex ``vid`` and the one-hot barycentric weights selecting it."""
    rows, cols = np.nonzero(faces == vid)
    if rows.size == 0:
        raise ValueError(f"keypoint map: vertex {vid} belongs to no triangle of the mesh")
    bary = np.zeros(3)
    bary[cols[0]] = 1.0
    return int(rows[0]), bary


def _hand_entries(side: str) -> dict[str, tuple[str, object]]:
    """COCO-WB hand name -> ("joint", smplx name) or ("vertex", id)."""
    out: dict[str, tuple[str, object]] = {f"{side}_hand_root": ("joint", f"{side}_wrist")}
    for finger, smplx_finger in FINGER_TO_SMPLX.items():
        for k in range(1, 4):
            out[f"{side}_{finger}{k}"] = ("joint", f"{side}_{smplx_finger}{k}")
        out[f"{side}_{finger}4"] = ("vertex", FINGERTIP_VERTEX_IDS[side][finger])
    return out


def default_keypoint_map(
    faces: np.ndarray,
    lmk_faces_idx: np.ndarray,
    lmk_bary_coords: np.ndarray,
    raw: dict | None = None,
    path: str | Path = "<arrays>",
) -> dict[str, np.ndarray]:
    """Build ``kpt_joint_ids``, ``kpt_face_ids``, ``kpt_bary`` (133 each) by keypoint name.

    Args:
        faces: ``(F, 3)`` triangles of a mesh with the official SMPL-X vertex order.
        lmk_faces_idx, lmk_bary_coords: the file's 51 static face landmarks.
        raw: the file's raw arrays; ``dynamic_lmk_faces_idx``/``dynamic_lmk_bary_coords`` are used
            for the jaw contour if present.
        path: for error messages.
    """
    num_vertices = int(faces.max()) + 1 if faces.size else 0
    if num_vertices <= MAX_VERTEX_ID:
        raise ValueError(
            f"model file {path}: no coco_wholebody_* keypoint map keys and only {num_vertices} "
            f"mesh vertices; the default map needs the SMPL-X topology (> {MAX_VERTEX_ID} vertices)"
        )
    n = COCO_WHOLEBODY.num_keypoints
    joint_ids = np.full(n, -1, dtype=np.int64)
    face_ids = np.full(n, -1, dtype=np.int64)
    bary = np.zeros((n, 3))

    entries: dict[str, tuple[str, object]] = {}
    entries.update({name: ("vertex", vid) for name, vid in BODY_VERTEX_IDS.items()})
    entries.update({name: ("joint", name) for name in BODY_JOINT_NAMES})
    for side in ("left", "right"):
        entries.update(_hand_entries(side))
    for k in range(NUM_STATIC_FACE):
        entries[f"face-{NUM_CONTOUR + k}"] = ("face", (lmk_faces_idx[k], lmk_bary_coords[k]))

    raw = raw or {}
    if "dynamic_lmk_faces_idx" in raw and "dynamic_lmk_bary_coords" in raw:
        dyn_f = np.asarray(raw["dynamic_lmk_faces_idx"], dtype=np.int64)
        dyn_b = np.asarray(raw["dynamic_lmk_bary_coords"], dtype=np.float64)
        if dyn_f.ndim != 2 or dyn_f.shape[1] != NUM_CONTOUR or dyn_b.shape != dyn_f.shape + (3,):
            raise ValueError(
                f"model file {path}: dynamic landmarks expected (bins, 17) and (bins, 17, 3), "
                f"got {dyn_f.shape} and {dyn_b.shape}"
            )
        for k in range(NUM_CONTOUR):  # bin 0 = zero head yaw (frontal)
            entries[f"face-{k}"] = ("face", (dyn_f[0, k], dyn_b[0, k]))
    else:
        logger.warning("%s: no dynamic contour landmarks; face-0..16 use the jaw joint", path)
        for k in range(NUM_CONTOUR):
            entries[f"face-{k}"] = ("joint", "jaw")

    for i, name in enumerate(COCO_WHOLEBODY.names):
        kind, value = entries[name]
        if kind == "joint":
            joint_ids[i] = SMPLX.index(value)
        elif kind == "vertex":
            face_ids[i], bary[i] = _vertex_face(faces, int(value))
        else:
            face_ids[i], bary[i] = int(value[0]), np.asarray(value[1], dtype=np.float64)
    return {"kpt_joint_ids": joint_ids, "kpt_face_ids": face_ids, "kpt_bary": bary}

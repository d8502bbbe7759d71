"""COCO-WholeBody results JSON (the format xtcocotools' whole-body evaluation reads).

One record per person: ``image_id``, ``category_id``, ``score`` and the five part fields
``keypoints`` (body, 17x3), ``foot_kpts`` (6x3), ``face_kpts`` (68x3), ``lefthand_kpts`` (21x3)
and ``righthand_kpts`` (21x3), each a flat ``[x, y, score, ...]`` list in original-image pixels.
Part membership comes from ``COCO_WHOLEBODY.parts`` by name. Pure numpy + json.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from wholebody.keypoints import COCO_WHOLEBODY

# part name (KeypointSet.parts) -> JSON field of COCO-WholeBody annotations and results
PART_FIELDS: dict[str, str] = {
    "body": "keypoints",
    "foot": "foot_kpts",
    "face": "face_kpts",
    "left_hand": "lefthand_kpts",
    "right_hand": "righthand_kpts",
}
NUM_KEYPOINTS = len(COCO_WHOLEBODY)


def part_indices() -> dict[str, np.ndarray]:
    """Part name -> indices into the 133 layout, in ``PART_FIELDS`` order."""
    parts = COCO_WHOLEBODY.parts
    return {p: parts[p] for p in PART_FIELDS}


def record_from_arrays(
    image_id: int,
    keypoints: np.ndarray,
    scores: np.ndarray,
    score: float,
    category_id: int = 1,
) -> dict:
    """One results record from ``keypoints (133, 2)`` pixels and ``scores (133,)``."""
    kpts = np.asarray(keypoints, dtype=np.float64)
    sc = np.asarray(scores, dtype=np.float64)
    if kpts.shape != (NUM_KEYPOINTS, 2):
        raise ValueError(f"keypoints: expected shape ({NUM_KEYPOINTS}, 2), got {kpts.shape}")
    if sc.shape != (NUM_KEYPOINTS,):
        raise ValueError(f"scores: expected shape ({NUM_KEYPOINTS},), got {sc.shape}")
    if not (np.all(np.isfinite(kpts)) and np.all(np.isfinite(sc)) and math.isfinite(score)):
        raise ValueError(f"image {image_id}: keypoints, scores and score must be finite")
    rec: dict = {"image_id": int(image_id), "category_id": int(category_id)}
    full = np.concatenate([kpts, sc[:, None]], axis=1)
    for part, idx in part_indices().items():
        rec[PART_FIELDS[part]] = [float(v) for v in full[idx].reshape(-1)]
    rec["score"] = float(score)
    return rec


def records_from_arrays(
    image_ids,
    keypoints: np.ndarray,
    scores: np.ndarray,
    person_scores,
    category_id: int = 1,
) -> list[dict]:
    """Records for N people: ``image_ids (N,)``, ``keypoints (N, 133, 2)``, ``scores (N, 133)``,
    ``person_scores (N,)``."""
    ids = np.asarray(image_ids).reshape(-1)
    kpts = np.asarray(keypoints, dtype=np.float64)
    sc = np.asarray(scores, dtype=np.float64)
    ps = np.asarray(person_scores, dtype=np.float64).reshape(-1)
    n = len(ids)
    if kpts.shape != (n, NUM_KEYPOINTS, 2) or sc.shape != (n, NUM_KEYPOINTS) or ps.shape != (n,):
        raise ValueError(
            f"expected keypoints ({n}, {NUM_KEYPOINTS}, 2), scores ({n}, {NUM_KEYPOINTS}), "
            f"person_scores ({n},); got {kpts.shape}, {sc.shape}, {ps.shape}"
        )
    return [
        record_from_arrays(int(ids[i]), kpts[i], sc[i], float(ps[i]), category_id) for i in range(n)
    ]


def arrays_from_records(records: list[dict]) -> dict[str, np.ndarray]:
    """Inverse of ``records_from_arrays``.

    Returns a dict with ``image_ids (N,)`` int64, ``keypoints (N, 133, 2)``, ``scores (N, 133)``,
    ``person_scores (N,)`` and ``category_ids (N,)``. Missing part fields raise ValueError.
    """
    n = len(records)
    kpts = np.zeros((n, NUM_KEYPOINTS, 3), dtype=np.float64)
    ids = np.zeros(n, dtype=np.int64)
    cats = np.ones(n, dtype=np.int64)
    ps = np.zeros(n, dtype=np.float64)
    parts = part_indices()
    for i, rec in enumerate(records):
        check_record(rec, i)
        ids[i] = rec["image_id"]
        cats[i] = rec.get("category_id", 1)
        ps[i] = rec["score"]
        for part, idx in parts.items():
            kpts[i, idx] = np.asarray(rec[PART_FIELDS[part]], dtype=np.float64).reshape(-1, 3)
    return {
        "image_ids": ids,
        "keypoints": kpts[..., :2],
        "scores": kpts[..., 2],
        "person_scores": ps,
        "category_ids": cats,
    }


def check_record(rec, i: int = 0) -> None:
    """ValueError naming the record and field when a results record is malformed."""
    if not isinstance(rec, dict):
        raise ValueError(f"result {i}: expected a JSON object, got {type(rec).__name__}")
    for key in ("image_id", "score"):
        if key not in rec:
            raise ValueError(f"result {i}: missing field {key!r}")
    if not isinstance(rec["score"], (int, float)) or not math.isfinite(rec["score"]):
        raise ValueError(f"result {i}: score must be a finite number, got {rec['score']!r}")
    for part, idx in part_indices().items():
        field = PART_FIELDS[part]
        if field not in rec:
            raise ValueError(f"result {i}: missing part field {field!r}")
        vals = rec[field]
        if not isinstance(vals, list) or len(vals) != 3 * len(idx):
            got = len(vals) if isinstance(vals, list) else type(vals).__name__
            raise ValueError(f"result {i}: {field!r} expected {3 * len(idx)} numbers, got {got}")


def write_results(path: str | os.PathLike, records: list[dict]) -> Path:
    """Write records as a JSON list, atomically (temp file + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for i, rec in enumerate(records):
        check_record(rec, i)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(records, f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_results(path: str | os.PathLike) -> list[dict]:
    """Read and validate a results JSON list; ValueError for missing or malformed files."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"results file not found: {path}")
    try:
        with open(path) as f:
            records = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"results file {path} is not valid JSON: {e}") from None
    if not isinstance(records, list):
        raise ValueError(
            f"results file {path}: expected a JSON list of records, got {type(records).__name__}"
        )
    for i, rec in enumerate(records):
        check_record(rec, i)
    return records

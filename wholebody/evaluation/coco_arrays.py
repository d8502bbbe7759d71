"""Ground truth and results of COCO-WholeBody as flat numpy arrays for the evaluator.

Follows xtcocotools' loading rules: results are matched to ground-truth images and categories;
a prediction's ``area`` is the box area of its body keypoints (all 17, as ``COCO.loadRes``), or
of its ``bbox`` when the first record carries one; ground truth without ``iscrowd`` is not crowd.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wholebody.evaluation.results_io import NUM_KEYPOINTS, PART_FIELDS, part_indices

# part -> per-part score key of xtcocotools results (falls back to ``score``)
PART_SCORE_KEYS: dict[str, str] = {
    "body": "score",
    "foot": "foot_score",
    "face": "face_score",
    "left_hand": "lefthand_score",
    "right_hand": "righthand_score",
    "wholebody": "wholebody_score",
}


@dataclass(frozen=True)
class GroundTruthArrays:
    """Ground-truth people. ``G`` annotations, ``I`` images, ``K`` categories.

    ``kpts`` are ``(G, 133, 3)`` in the 133 layout; ``image_index``/``cat_index`` index
    ``image_ids``/``cat_ids`` (both sorted ascending); ``area`` may be NaN when missing.
    """

    image_ids: np.ndarray
    cat_ids: np.ndarray
    image_index: np.ndarray
    cat_index: np.ndarray
    kpts: np.ndarray
    area: np.ndarray
    bbox: np.ndarray
    iscrowd: np.ndarray


@dataclass(frozen=True)
class DetectionArrays:
    """Predicted people: ``kpts (D, 133, 3)`` (x, y, score), ``area (D,)``, ``scores`` per key."""

    image_index: np.ndarray
    cat_index: np.ndarray
    kpts: np.ndarray
    area: np.ndarray
    scores: dict[str, np.ndarray]


def load_json(path_or_obj, what: str):
    """A parsed JSON object from a path, or the object itself; ValueError when unreadable."""
    if isinstance(path_or_obj, (str, os.PathLike)):
        path = Path(path_or_obj)
        if not path.is_file():
            raise ValueError(f"{what} file not found: {path}")
        try:
            with open(path) as f:
                return json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{what} file {path} is not valid JSON: {e}") from None
    return path_or_obj


def _stack_parts(anns: list[dict], what: str) -> np.ndarray:
    """``(N, 133, 3)`` from the five part fields of each annotation."""
    out = np.zeros((len(anns), NUM_KEYPOINTS, 3), dtype=np.float64)
    if not anns:
        return out
    for idx, field in zip(part_indices().values(), PART_FIELDS.values(), strict=True):
        size = 3 * len(idx)
        try:
            vals = np.array([a[field] for a in anns], dtype=np.float64)
            ok = vals.shape == (len(anns), size)
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:  # find the offending record for the message
            for i, ann in enumerate(anns):
                v = ann.get(field) if isinstance(ann, dict) else None
                if not isinstance(v, list) or len(v) != size:
                    got = "missing" if v is None else (len(v) if isinstance(v, list) else repr(v))
                    raise ValueError(f"{what} {i}: {field!r} expected {size} numbers, got {got}")
            raise ValueError(f"{what}s: {field!r} holds non-numeric values")
        out[:, idx] = vals.reshape(len(anns), len(idx), 3)
    bad = ~np.isfinite(out).all(axis=(1, 2))
    if bad.any():
        raise ValueError(f"{what} {int(np.flatnonzero(bad)[0])}: keypoints must be finite numbers")
    return out


def ground_truth_arrays(gt) -> GroundTruthArrays:
    """Arrays from a COCO-WholeBody annotation dict or path."""
    gt = load_json(gt, "ground truth")
    if not isinstance(gt, dict) or "images" not in gt or "annotations" not in gt:
        raise ValueError("ground truth: expected a JSON object with 'images' and 'annotations'")
    image_ids = np.unique(np.array([img["id"] for img in gt["images"]], dtype=np.int64))
    cats = gt.get("categories") or [{"id": 1}]
    cat_ids = np.unique(np.array([c["id"] for c in cats], dtype=np.int64))
    anns = [a for a in gt["annotations"] if a.get("category_id", 1) in set(cat_ids.tolist())]
    for i, ann in enumerate(anns):
        for key in ("image_id", "bbox"):
            if key not in ann:
                raise ValueError(f"ground-truth annotation {i}: missing field {key!r}")
    ann_img = np.array([a["image_id"] for a in anns], dtype=np.int64)
    image_index = np.searchsorted(image_ids, ann_img)
    bad = (image_index >= len(image_ids)) | (
        image_ids[np.minimum(image_index, len(image_ids) - 1)] != ann_img
    )
    if bad.any():
        raise ValueError(
            f"ground truth: annotations on unknown image ids {np.unique(ann_img[bad])}"
        )
    cat_index = np.searchsorted(cat_ids, [a.get("category_id", 1) for a in anns])
    bbox = np.array([a["bbox"] for a in anns], dtype=np.float64).reshape(len(anns), 4)
    area = np.array([a.get("area", np.nan) for a in anns], dtype=np.float64)
    iscrowd = np.array([bool(a.get("iscrowd", 0)) for a in anns], dtype=bool)
    return GroundTruthArrays(
        image_ids=image_ids,
        cat_ids=cat_ids,
        image_index=image_index.astype(np.int64),
        cat_index=cat_index.astype(np.int64),
        kpts=_stack_parts(anns, "ground-truth annotation"),
        area=area,
        bbox=bbox,
        iscrowd=iscrowd,
    )


def detection_arrays(results, gt: GroundTruthArrays) -> DetectionArrays:
    """Arrays from a results list (or path) in the xtcocotools whole-body format."""
    results = load_json(results, "results")
    if not isinstance(results, list):
        raise ValueError(f"results: expected a JSON list of records, got {type(results).__name__}")
    for i, rec in enumerate(results):
        if not isinstance(rec, dict) or "image_id" not in rec or "score" not in rec:
            raise ValueError(f"result {i}: expected an object with 'image_id' and 'score'")
    img = np.array([r["image_id"] for r in results], dtype=np.int64)
    image_index = np.searchsorted(gt.image_ids, img)
    ok = image_index < len(gt.image_ids)
    ok[ok] = gt.image_ids[image_index[ok]] == img[ok]
    if not ok.all():
        raise ValueError(
            "results do not correspond to the ground truth: unknown image ids "
            f"{np.unique(img[~ok])[:10].tolist()}"
        )
    cats = np.array([r.get("category_id", 1) for r in results], dtype=np.int64)
    known = np.isin(cats, gt.cat_ids)  # xtcocotools only loads results of known categories
    keep = np.flatnonzero(known)
    results = [results[i] for i in keep]
    kpts = _stack_parts(results, "result")
    if results and results[0].get("bbox"):
        bb = np.array([r["bbox"] for r in results], dtype=np.float64).reshape(-1, 4)
        area = bb[:, 2] * bb[:, 3]
    else:
        body = kpts[:, part_indices()["body"]]
        span = body[..., :2].max(axis=1) - body[..., :2].min(axis=1)
        area = span[:, 0] * span[:, 1]
    base = np.array([r["score"] for r in results], dtype=np.float64)
    if not np.isfinite(base).all():
        raise ValueError(
            f"result {int(np.flatnonzero(~np.isfinite(base))[0])}: score must be finite"
        )
    scores = {"score": base}
    for key in PART_SCORE_KEYS.values():
        if key != "score" and any(key in r for r in results):
            scores[key] = np.array([r.get(key, r["score"]) for r in results], dtype=np.float64)
    return DetectionArrays(
        image_index=image_index[keep],
        cat_index=np.searchsorted(gt.cat_ids, cats[keep]).astype(np.int64),
        kpts=kpts,
        area=area,
        scores=scores,
    )

"""A reproducible synthetic COCO-WholeBody ground truth + results pair for evaluator checks.

Uses only the standard library's ``random.Random`` so the same seed gives byte-identical JSON
under any numpy version (the parity fixture is produced with xtcocotools under numpy < 2).
It exercises every branch of the protocol: small/medium/large people, unlabelled parts,
people with no labelled body keypoints, crowd regions, false positives, images with more than
20 predictions, tied person scores and parts predicted with all-zero scores.
"""

from __future__ import annotations

import hashlib
import json
import random

from wholebody.evaluation.results_io import PART_FIELDS, part_indices

_PART_SIZES = {field: len(ix) for field, ix in zip(PART_FIELDS.values(), part_indices().values())}


def _person(rng: random.Random, width: int, height: int) -> tuple[list[float], float, dict]:
    """Box ``[x, y, w, h]``, segmentation area and labelled part fields of one person."""
    side = 12.0 * (2.0 ** rng.uniform(0, 5))  # 12 .. 384 px tall: small, medium and large
    h = min(side, height - 2.0)
    w = min(h * rng.uniform(0.35, 0.8), width - 2.0)
    x = rng.uniform(0, width - w)
    y = rng.uniform(0, height - h)
    bbox = [round(x, 2), round(y, 2), round(w, 2), round(h, 2)]
    area = round(w * h * rng.uniform(0.4, 0.8), 2)
    fields = {}
    body_unlabelled = rng.random() < 0.06
    for field, size in _PART_SIZES.items():
        labelled = not body_unlabelled if field == "keypoints" else rng.random() < 0.6
        vals: list[float] = []
        for _ in range(size):
            if labelled and rng.random() > 0.2:
                vals += [round(x + rng.random() * w, 2), round(y + rng.random() * h, 2)]
                vals.append(float(rng.choice((1, 2))))
            else:
                vals += [0.0, 0.0, 0.0]
        fields[field] = vals
    return bbox, area, fields


def _prediction(rng: random.Random, bbox, area, fields, image_id: int) -> dict:
    """A noisy prediction of one person (noise relative to the person's size)."""
    noise = rng.choice((0.003, 0.01, 0.02, 0.04, 0.1)) * max(area, 1.0) ** 0.5
    x, y, w, h = bbox
    rec: dict = {"image_id": image_id, "category_id": 1}
    for field, vals in fields.items():
        zero_part = rng.random() < 0.05
        out = []
        for j in range(0, len(vals), 3):
            if vals[j + 2] > 0:
                px = vals[j] + rng.gauss(0, noise)
                py = vals[j + 1] + rng.gauss(0, noise)
            else:
                px, py = x + rng.random() * w, y + rng.random() * h
            s = 0.0 if zero_part else rng.uniform(0.05, 1.0)
            out += [round(px, 2), round(py, 2), round(s, 3)]
        rec[field] = out
    rec["score"] = round(rng.random(), 1)  # coarse: many ties
    return rec


def _random_prediction(rng: random.Random, width: int, height: int, image_id: int) -> dict:
    bbox, area, fields = _person(rng, width, height)
    for field, vals in fields.items():
        fields[field] = [v if j % 3 != 2 else 2.0 for j, v in enumerate(vals)]
    return _prediction(rng, bbox, area, fields, image_id)


def make_eval_set(
    num_images: int = 60,
    seed: int = 0,
    width: int = 640,
    height: int = 480,
    extras: bool = False,
):
    """Ground truth dict and results list (see the module docstring).

    ``extras`` adds a ``bbox`` to every result (xtcocotools then takes a prediction's area from
    it) and per-part scores (``foot_score`` ...) to every other result.
    """
    rng = random.Random(seed)
    images, anns, results = [], [], []
    for i in range(num_images):
        image_id = 1000 + 7 * i  # not contiguous, not starting at 0
        images.append({"id": image_id, "width": width, "height": height, "file_name": f"{i}.jpg"})
        count = rng.choice((0, 1, 1, 2, 2, 3, 4)) if i % 17 else 9
        for _ in range(count):
            bbox, area, fields = _person(rng, width, height)
            ann = {"id": len(anns) + 1, "image_id": image_id, "category_id": 1, "iscrowd": 0}
            ann.update(bbox=bbox, area=area, **fields)
            ann["num_keypoints"] = sum(1 for v in fields["keypoints"][2::3] if v > 0)
            anns.append(ann)
            if rng.random() < 0.85:
                results.append(_prediction(rng, bbox, area, fields, image_id))
            if rng.random() < 0.1:  # a duplicate
                results.append(_prediction(rng, bbox, area, fields, image_id))
        if i % 11 == 3:  # a crowd region with no keypoints
            w, h = width * 0.5, height * 0.5
            empty = {f: [0.0] * (3 * n) for f, n in _PART_SIZES.items()}
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": image_id,
                    "category_id": 1,
                    "iscrowd": 1,
                    "bbox": [10.0, 10.0, w, h],
                    "area": round(w * h * 0.6, 2),
                    "num_keypoints": 0,
                    **empty,
                }
            )
            results.append(_random_prediction(rng, int(w), int(h), image_id))
        extra = 24 if i % 23 == 5 else (1 if rng.random() < 0.3 else 0)
        for _ in range(extra):
            results.append(_random_prediction(rng, width, height, image_id))
    if extras:
        for k, rec in enumerate(results):
            xs, ys = rec["keypoints"][0::3], rec["keypoints"][1::3]
            w, h = max(xs) - min(xs), max(ys) - min(ys)
            rec["bbox"] = [min(xs), min(ys), round(w * rng.uniform(0.8, 1.5), 2), round(h, 2)]
            if k % 2:
                for key in ("foot_score", "face_score", "lefthand_score", "righthand_score",
                            "wholebody_score"):  # fmt: skip
                    rec[key] = round(rng.random(), 2)
    gt = {
        "images": images,
        "annotations": anns,
        "categories": [{"id": 1, "name": "person"}],
    }
    return gt, results


def fingerprint(gt: dict, results: list) -> str:
    """sha256 of the canonical JSON of a ground truth + results pair."""
    text = json.dumps([gt, results], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()

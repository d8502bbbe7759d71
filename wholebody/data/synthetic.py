"""A small COCO-WholeBody-format dataset of rendered figures with known 133 keypoints.

Each figure is built by name from a frontal template (body, feet, iBUG-68 face, two hands),
posed with random limb angles, scaled, rotated and placed; limbs are drawn as thick lines and
every keypoint as a dot whose colour encodes its index. Output: ``images/*.png`` and an
``annotations.json`` with the COCO-WholeBody fields (``keypoints``, ``foot_kpts``,
``face_kpts``, ``lefthand_kpts``, ``righthand_kpts``, ``*_valid``, ``*_box``, ``bbox``,
``area``, ``num_keypoints``). Keypoints outside the image are unlabelled (0, 0, 0).
"""

from __future__ import annotations

import colorsys
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from wholebody.evaluation.results_io import PART_FIELDS
from wholebody.keypoints import COCO_WHOLEBODY

_FINGER_ANGLES = {"thumb": -55.0, "forefinger": -18.0, "middle_finger": 0.0,
                  "ring_finger": 16.0, "pinky_finger": 32.0}  # fmt: skip
_LIMBS = (
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
    ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
)  # fmt: skip


def _unit(deg: float) -> np.ndarray:
    """Direction at ``deg`` from straight down, positive towards image right."""
    r = np.deg2rad(deg)
    return np.array([np.sin(r), np.cos(r)])


def _face(points: dict, centre: np.ndarray) -> None:
    """iBUG-68 landmarks around ``centre`` (subject's right = image left)."""
    cx, cy = centre
    for k in range(17):  # jaw contour, image left to right through the chin
        t = np.pi - k * np.pi / 16
        points[f"face-{k}"] = (cx + 0.045 * np.cos(t), cy + 0.055 * np.sin(t))
    for k in range(5):  # brows 17-21 (image left) and 22-26
        points[f"face-{17 + k}"] = (cx - 0.038 + 0.007 * k, cy - 0.026 - 0.003 * (k in (1, 2, 3)))
        points[f"face-{22 + k}"] = (cx + 0.010 + 0.007 * k, cy - 0.026 - 0.003 * (k in (1, 2, 3)))
    for k in range(4):  # nose bridge
        points[f"face-{27 + k}"] = (cx, cy - 0.018 + 0.007 * k)
    for k in range(5):  # nostrils
        points[f"face-{31 + k}"] = (cx - 0.012 + 0.006 * k, cy + 0.012)
    for side, first in ((-1, 36), (1, 42)):  # eyes as hexagons
        ex, ey = cx + side * 0.02, cy - 0.012
        for k in range(6):
            t = np.pi - k * np.pi / 3
            points[f"face-{first + k}"] = (ex + 0.009 * np.cos(t), ey - 0.004 * np.sin(t))
    for k in range(12):  # outer lip
        t = np.pi - k * np.pi / 6
        points[f"face-{48 + k}"] = (cx + 0.02 * np.cos(t), cy + 0.03 - 0.008 * np.sin(t))
    for k in range(8):  # inner lip
        t = np.pi - k * np.pi / 4
        points[f"face-{60 + k}"] = (cx + 0.012 * np.cos(t), cy + 0.03 - 0.004 * np.sin(t))


def _hand(points: dict, side: str, wrist: np.ndarray, direction: float, sign: float) -> None:
    root = wrist + 0.02 * _unit(direction)
    points[f"{side}_hand_root"] = tuple(root)
    for finger, spread in _FINGER_ANGLES.items():
        ang = direction + sign * spread
        base = root + 0.025 * _unit(ang)
        for k in range(4):
            points[f"{side}_{finger}{k + 1}"] = tuple(base + 0.016 * k * _unit(ang))


def random_figure(rng: np.random.Generator) -> np.ndarray:
    """``(133, 2)`` keypoints of one posed figure, unit height, centred at the origin."""
    pts: dict[str, tuple[float, float]] = {}
    head = np.array([0.0, -0.40])
    _face(pts, head)
    pts["nose"] = pts["face-30"]
    pts["left_eye"], pts["right_eye"] = (
        (head[0] + 0.02, head[1] - 0.012),
        (head[0] - 0.02, head[1] - 0.012),
    )
    pts["left_ear"], pts["right_ear"] = (head[0] + 0.05, head[1]), (head[0] - 0.05, head[1])
    for side, sign in (("left", 1.0), ("right", -1.0)):  # subject's left is image right
        shoulder = np.array([sign * 0.11, -0.30])
        hip = np.array([sign * 0.07, 0.02])
        a1 = sign * rng.uniform(5, 150)
        a2 = a1 + sign * rng.uniform(-10, 90)
        elbow = shoulder + 0.17 * _unit(a1)
        wrist = elbow + 0.15 * _unit(a2)
        l1 = sign * rng.uniform(-5, 35)
        l2 = l1 - sign * rng.uniform(0, 40)
        knee = hip + 0.23 * _unit(l1)
        ankle = knee + 0.22 * _unit(l2)
        joints = {"shoulder": shoulder, "hip": hip, "elbow": elbow, "wrist": wrist,
                  "knee": knee, "ankle": ankle}  # fmt: skip
        pts.update({f"{side}_{k}": v for k, v in joints.items()})
        pts[f"{side}_big_toe"] = ankle + np.array([sign * 0.02, 0.045])
        pts[f"{side}_small_toe"] = ankle + np.array([sign * 0.055, 0.035])
        pts[f"{side}_heel"] = ankle + np.array([-sign * 0.01, 0.015])
        _hand(pts, side, wrist, a2, sign)
    out = np.array([pts[n] for n in COCO_WHOLEBODY.names], dtype=np.float64)
    return out - np.array([0.0, 0.02])


def _colour(j: int) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb((j * 0.618034) % 1.0, 0.9, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


def render_people(
    rng: np.random.Generator, size: tuple[int, int], num_people: int, height_range=(90, 200)
) -> tuple[np.ndarray, list[np.ndarray]]:
    """An ``(H, W, 3)`` uint8 image and each person's ``(133, 2)`` keypoints in pixels."""
    w, h = size
    bg = rng.integers(0, 256, 3)
    img = np.clip(bg + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)
    canvas = Image.fromarray(img)
    draw = ImageDraw.Draw(canvas)
    people = []
    slot = w / num_people
    index = {n: i for i, n in enumerate(COCO_WHOLEBODY.names)}
    for p in range(num_people):
        height = rng.uniform(*height_range)
        theta = np.deg2rad(rng.uniform(-20, 20))
        rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
        centre = np.array([slot * (p + 0.5) + rng.uniform(-0.1, 0.1) * slot,
                           h / 2 + rng.uniform(-0.1, 0.1) * h])  # fmt: skip
        kpts = random_figure(rng) @ rot.T * height + centre
        people.append(kpts)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        width = max(2, int(height * 0.03))
        for a, b in _LIMBS:
            draw.line([tuple(kpts[index[a]]), tuple(kpts[index[b]])], fill=colour, width=width)
        radius = max(1.0, height * 0.006)
        for j, (x, y) in enumerate(kpts):
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=_colour(j))
    return np.asarray(canvas), people


def _box(xy: np.ndarray, margin: float, size: tuple[int, int]) -> list[float]:
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    pad = (hi - lo) * margin
    lo = np.maximum(lo - pad, 0)
    hi = np.minimum(hi + pad, np.array(size, dtype=np.float64) - 1)
    return [round(float(v), 2) for v in (lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])]


def annotation(kpts: np.ndarray, image_id: int, ann_id: int, size: tuple[int, int]) -> dict:
    """A COCO-WholeBody annotation of one rendered person."""
    w, h = size
    inside = (kpts[:, 0] >= 0) & (kpts[:, 0] <= w - 1) & (kpts[:, 1] >= 0) & (kpts[:, 1] <= h - 1)
    full = np.zeros((len(kpts), 3))
    full[inside, :2] = np.round(kpts[inside], 2)
    full[inside, 2] = 2
    ann = {"id": ann_id, "image_id": image_id, "category_id": 1, "iscrowd": 0}
    parts = COCO_WHOLEBODY.parts
    for part, field in PART_FIELDS.items():
        ann[field] = [float(v) for v in full[parts[part]].reshape(-1)]
    ann["bbox"] = _box(kpts[inside], 0.05, size)
    ann["area"] = round(ann["bbox"][2] * ann["bbox"][3] * 0.6, 2)
    ann["num_keypoints"] = int(inside[parts["body"]].sum())
    for part, key in (("face", "face"), ("left_hand", "lefthand"), ("right_hand", "righthand")):
        vis = inside[parts[part]]
        ann[f"{key}_valid"] = bool(vis.any())
        ann[f"{key}_box"] = _box(kpts[parts[part]][vis], 0.1, size) if vis.any() else [0.0] * 4
    ann["foot_valid"] = bool(inside[parts["foot"]].any())
    return ann


def make_synthetic_dataset(
    out_dir: str | os.PathLike,
    num_images: int = 8,
    seed: int = 0,
    image_size: tuple[int, int] = (256, 256),
    max_people: int = 2,
    height_range: tuple[float, float] = (90, 200),
) -> Path:
    """Render ``num_images`` images into ``out_dir``; returns the annotation JSON path."""
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    images, anns = [], []
    for i in range(num_images):
        num_people = int(rng.integers(1, max_people + 1))
        img, people = render_people(rng, image_size, num_people, height_range)
        name = f"{i + 1:06d}.png"  # file stem = image id (COCO naming)
        Image.fromarray(img).save(out / "images" / name)
        images.append({"id": i + 1, "file_name": name, "width": image_size[0],
                       "height": image_size[1]})  # fmt: skip
        for kpts in people:
            anns.append(annotation(kpts, i + 1, len(anns) + 1, image_size))
    data = {"images": images, "annotations": anns, "categories": [
        {"id": 1, "name": "person", "keypoints": list(COCO_WHOLEBODY.names)}]}  # fmt: skip
    path = out / "annotations.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)
    return path

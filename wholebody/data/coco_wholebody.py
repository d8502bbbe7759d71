"""COCO-WholeBody dataset for top-down training and evaluation.

Reads the annotation JSON (``keypoints``, ``foot_kpts``, ``face_kpts``, ``lefthand_kpts``,
``righthand_kpts``, ``*_valid`` flags, ``bbox`` xywh, ``area``, ``iscrowd``) into one
``(133, 3)`` array per person (keypoints placed by part name). Samples are affine crops with
SimCC targets; augmentation is seeded by ``(seed, epoch, index)`` so runs are reproducible and
resumable. Training keeps non-crowd people with at least one labelled body keypoint (MMPose).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wholebody.codecs.heatmap import encode_heatmap
from wholebody.codecs.simcc import encode_simcc
from wholebody.crop import (
    box_to_center_scale,
    fix_aspect_ratio,
    get_warp_matrix,
    transform_points,
    warp_affine,
)
from wholebody.data.transforms import (
    NO_AUGMENT,
    AugmentConfig,
    colour_jitter,
    flip_keypoints_horizontal,
    half_body_box,
    random_box_transform,
)
from wholebody.evaluation.coco_arrays import load_json
from wholebody.evaluation.results_io import NUM_KEYPOINTS, PART_FIELDS
from wholebody.keypoints import COCO_WHOLEBODY
from wholebody.media import read_image

logger = logging.getLogger(__name__)
_FLIP = COCO_WHOLEBODY.flip_indices

# validity flag of COCO-WholeBody -> part it switches off when false
VALID_FLAGS = {"foot_valid": "foot", "face_valid": "face", "lefthand_valid": "left_hand",
               "righthand_valid": "right_hand"}  # fmt: skip


@dataclass(frozen=True)
class Instance:
    """One annotated person: ``keypoints (133, 3)``, ``box`` xyxy clipped to the image."""

    image_id: int
    file_name: str
    image_size: tuple[int, int]
    ann_id: int
    box: np.ndarray
    keypoints: np.ndarray
    area: float
    iscrowd: bool


def _numbers(value, size: int, where: str, field: str) -> np.ndarray:
    if not isinstance(value, (list, tuple)) or len(value) != size:
        got = (
            "missing"
            if value is None
            else f"{len(value) if isinstance(value, (list, tuple)) else type(value).__name__}"
        )
        raise ValueError(f"{where}: {field!r} expected {size} numbers, got {got}")
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{where}: {field!r} contains non-finite values")
    return arr


def parse_annotations(data, on_invalid: str = "error") -> list[Instance]:
    """All annotations of a COCO-WholeBody dict (or path) as ``Instance`` records.

    Args:
        data: annotation dict or JSON path.
        on_invalid: ``"error"`` raises ValueError for a non-crowd box with zero or negative
            width/height (after clipping to the image); ``"skip"`` drops it with a warning.
    """
    if on_invalid not in ("error", "skip"):
        raise ValueError(f"on_invalid: expected 'error' or 'skip', got {on_invalid!r}")
    data = load_json(data, "annotation")
    if not isinstance(data, dict):
        raise ValueError(f"annotation file: expected a JSON object, got {type(data).__name__}")
    for key in ("images", "annotations"):
        if not isinstance(data.get(key), list):
            raise ValueError(f"annotation file: missing list {key!r}")
    images = {}
    for i, img in enumerate(data["images"]):
        for key in ("id", "file_name", "width", "height"):
            if key not in img:
                raise ValueError(f"image {i}: missing field {key!r}")
        images[img["id"]] = img
    parts = COCO_WHOLEBODY.parts
    out = []
    skipped = 0
    for i, ann in enumerate(data["annotations"]):
        where = f"annotation {i} (id {ann.get('id', '?')})"
        if ann.get("image_id") not in images:
            raise ValueError(f"{where}: image_id {ann.get('image_id')!r} not in 'images'")
        img = images[ann["image_id"]]
        w, h = int(img["width"]), int(img["height"])
        kpts = np.zeros((NUM_KEYPOINTS, 3))
        for part, field in PART_FIELDS.items():
            kpts[parts[part]] = _numbers(
                ann.get(field), 3 * len(parts[part]), where, field
            ).reshape(-1, 3)
        for flag, part in VALID_FLAGS.items():
            if ann.get(flag) is False:
                kpts[parts[part]] = 0
        x, y, bw, bh = _numbers(ann.get("bbox"), 4, where, "bbox")
        box = np.array([max(x, 0), max(y, 0), min(x + bw, w), min(y + bh, h)])
        crowd = bool(ann.get("iscrowd", 0))
        if not crowd and (box[2] <= box[0] or box[3] <= box[1]):
            msg = f"{where}: zero-area box {ann['bbox']} in a {w}x{h} image"
            if on_invalid == "error":
                raise ValueError(msg + " (use on_invalid='skip' to drop such people)")
            skipped += 1
            continue
        out.append(Instance(
            image_id=ann["image_id"], file_name=img["file_name"], image_size=(w, h),
            ann_id=int(ann.get("id", i + 1)), box=box, keypoints=kpts,
            area=float(ann.get("area", bw * bh)), iscrowd=crowd,
        ))  # fmt: skip
    if skipped:
        logger.warning("skipped %d annotations with zero-area boxes", skipped)
    return out


class CocoWholeBodyDataset:
    """Top-down crops of COCO-WholeBody people with SimCC targets.

    Items are dicts of numpy arrays: ``image (3, h, w)`` float32 normalised RGB,
    ``target_x (133, Wx)``, ``target_y (133, Wy)`` (or ``heatmaps (133, h, w)`` when
    ``heatmap_size`` is given), ``weights (133,)``, ``center (2,)``,
    ``scale (2,)``, ``rot`` (degrees), ``flipped`` and ``index``.
    ``input_size`` is (w, h) as in ``ModelConfig``.
    """

    def __init__(
        self,
        ann_file,
        image_root: str | os.PathLike,
        input_size: tuple[int, int] = (192, 256),
        sigma: tuple[float, float] = (4.9, 5.66),
        split_ratio: float = 2.0,
        train: bool = True,
        augment: AugmentConfig | None = None,
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        padding: float = 1.25,
        cache_images: bool = False,
        on_invalid: str = "error",
        seed: int = 0,
        heatmap_size: tuple[int, int] | None = None,
    ) -> None:
        instances = parse_annotations(ann_file, on_invalid)
        if train:
            body = COCO_WHOLEBODY.part("body")
            instances = [p for p in instances if not p.iscrowd and (p.keypoints[body, 2] > 0).any()]
        self.instances = instances
        self.image_root = Path(image_root)
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.sigma, self.split_ratio = sigma, split_ratio
        self.heatmap_size = None if heatmap_size is None else tuple(int(v) for v in heatmap_size)
        self.train = train
        self.augment = (augment or AugmentConfig()) if train else NO_AUGMENT
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)
        self.padding = padding
        self.seed = seed
        self.epoch = 0
        self._cache: dict[str, np.ndarray] | None = {} if cache_images else None

    def __len__(self) -> int:
        return len(self.instances)

    def set_epoch(self, epoch: int) -> None:
        """Augmentation randomness depends on (seed, epoch, index)."""
        self.epoch = int(epoch)

    def load_image(self, file_name: str) -> np.ndarray:
        if self._cache is not None and file_name in self._cache:
            return self._cache[file_name]
        img = read_image(self.image_root / file_name)
        if self._cache is not None:
            self._cache[file_name] = img
        return img

    def crop_params(self, inst: Instance, rng: np.random.Generator):
        """Centre, scale (w, h) and rotation of the crop, augmented in training."""
        aspect = self.input_size[0] / self.input_size[1]
        center, scale = box_to_center_scale(inst.box[None], self.padding)
        center, scale = center[0], scale[0]
        aug = self.augment
        if aug.half_body_prob > 0 and rng.random() < aug.half_body_prob:
            half = half_body_box(inst.keypoints, rng, aspect, aug)
            if half is not None:
                center, scale = half
        factor, rot, shift = random_box_transform(rng, aug)
        center = center + shift * scale
        scale = fix_aspect_ratio(scale * factor, aspect)
        return center, scale, rot

    def __getitem__(self, index: int) -> dict:
        inst = self.instances[index]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        image = self.load_image(inst.file_name)
        center, scale, rot = self.crop_params(inst, rng)
        mat = get_warp_matrix(center[None], scale[None], self.input_size, rot)
        crop = warp_affine(image, mat[0], self.input_size)
        kpts = inst.keypoints.copy()
        kpts[:, :2] = transform_points(kpts[None, :, :2], mat)[0]
        flipped = bool(rng.random() < self.augment.flip_prob)
        if flipped:
            crop = crop[:, ::-1]
            kpts = flip_keypoints_horizontal(kpts, self.input_size[0], _FLIP)
        crop = colour_jitter(crop, rng, self.augment)
        img = ((crop - self.mean) / self.std).transpose(2, 0, 1)
        return {
            "image": np.ascontiguousarray(img, dtype=np.float32),
            **self.targets(kpts),
            "center": center.astype(np.float64),
            "scale": scale.astype(np.float64),
            "rot": float(rot),
            "flipped": flipped,
            "index": index,
        }

    def targets(self, kpts: np.ndarray) -> dict:
        """SimCC ``target_x``/``target_y`` (or ``heatmaps`` with ``heatmap_size``) + ``weights``
        for crop keypoints ``(133, 3)``; ``sigma`` is the codec's (SimCC bins or heatmap px)."""
        visible = (kpts[None, :, 2] > 0).astype(np.float32)
        if self.heatmap_size is not None:
            sigma = float(np.ravel(self.sigma)[0])
            hm, weights = encode_heatmap(
                kpts[None, :, :2], visible, self.input_size, self.heatmap_size, sigma
            )
            return {"heatmaps": hm[0], "weights": weights[0]}
        tx, ty, weights = encode_simcc(
            kpts[None, :, :2], visible, self.input_size, self.sigma, self.split_ratio
        )
        return {"target_x": tx[0], "target_y": ty[0], "weights": weights[0]}


TENSOR_KEYS = ("image", "target_x", "target_y", "heatmaps", "weights")


def codec_kwargs(config) -> dict:
    """Dataset arguments matching a ``ModelConfig``: input size, codec, normalisation."""
    heatmap = config.head == "heatmap"
    return {
        "input_size": config.input_size,
        "sigma": (config.heatmap_sigma,) * 2 if heatmap else config.sigma,
        "split_ratio": config.simcc_split_ratio,
        "heatmap_size": config.heatmap_size if heatmap else None,
        "mean": config.mean,
        "std": config.std,
    }


def collate(samples: list[dict]) -> dict:
    """Stack sample dicts into torch tensors (numpy metadata stays numpy)."""
    import torch

    out = {}
    for key in samples[0]:
        vals = np.stack([np.asarray(s[key]) for s in samples])
        out[key] = torch.from_numpy(vals) if key in TENSOR_KEYS else vals
    return out

"""Batched top-down whole-body inference: boxes -> affine crops -> one batched forward -> decode.

Images are RGB ``(H, W, 3)`` (uint8 0-255 or float 0-255). Output per person: keypoints
``(K, 2)`` original-image pixels and scores ``(K,)`` (SimCC: min of the x/y logit maxima as
MMPose; not a probability).

Channel order: every released RTMPose/DWPose/RTMW model was trained on RGB with the ImageNet
mean/std, but rtmlib, DWPose's ONNX branch and MMPose's ONNX example feed OpenCV BGR frames
without swapping. ``channel_order="bgr"`` reproduces that pipeline (the network sees BGR);
the default ``"rgb"`` is what the models were trained on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np

from wholebody.codecs.heatmap import decode_heatmap, flip_heatmap
from wholebody.codecs.simcc import decode_simcc, flip_simcc
from wholebody.crop import (
    box_to_center_scale,
    fix_aspect_ratio,
    get_udp_warp_matrix,
    get_warp_matrix,
    warp_affine,
    warp_from_crop,
)
from wholebody.keypoints import get_keypoint_set

logger = logging.getLogger(__name__)

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


@dataclass(frozen=True)
class PoseResult:
    """Predictions for the N boxes of one image, in box order."""

    keypoints: np.ndarray  # (N, K, 2) image pixels
    scores: np.ndarray  # (N, K); 0 for invalid boxes
    boxes: np.ndarray  # (N, 4) xyxy boxes used (clipped to the image)
    valid: np.ndarray  # (N,) False for zero-area / out-of-image boxes (keypoints = box centre)


def check_image(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) non-empty image or ValueError."""
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"image: expected RGB (H, W, 3), got shape {img.shape}")
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f"image: empty image of shape {img.shape}")
    return img


def sanitize_boxes(boxes, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, 4) xyxy clipped to ``[0, W-1] x [0, H-1]`` and a validity mask (positive area).

    ``None`` = one whole-image box. NaN / inf coordinates raise ValueError.
    """
    if boxes is None:
        return np.array([[0.0, 0.0, width - 1.0, height - 1.0]]), np.ones(1, bool)
    b = np.asarray(boxes, dtype=np.float64)
    if b.size == 0:
        return np.zeros((0, 4)), np.zeros(0, bool)
    if b.ndim == 1:
        b = b[None]
    if b.ndim != 2 or b.shape[1] < 4:
        raise ValueError(f"boxes: expected (N, 4) xyxy (extra columns ignored), got {b.shape}")
    b = b[:, :4]
    if not np.all(np.isfinite(b)):
        bad = np.flatnonzero(~np.all(np.isfinite(b), axis=1)).tolist()
        raise ValueError(f"boxes: non-finite coordinates in boxes {bad}")
    b = b.copy()
    b[:, 0::2] = np.clip(b[:, 0::2], 0, width - 1)
    b[:, 1::2] = np.clip(b[:, 1::2], 0, height - 1)
    valid = (b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])
    return b, valid


class TopdownPredictor:
    """Top-down predictor over a backend (``TorchBackend`` or ``OrtBackend``).

    Args:
        backend: callable ``(B, 3, H, W) -> outputs`` with ``input_size``, ``split_ratio``,
            ``is_simcc``.
        flip_test: average logits of the crop and its mirror (flip pairs by name from the
            keypoint set).
        channel_order: "rgb" (trained convention) or "bgr" (released ONNX pipelines).
        padding: box enlargement before the aspect fix (1.25 as released models).
        batch_size: crops per forward (flip test doubles the work in the same forward).
        keypoint_set: name of the model's keypoint set (flip pairs).
        heatmap_udp: UDP crops and decoding for heatmap models (None: the backend's config).
    """

    def __init__(
        self,
        backend,
        flip_test: bool = False,
        channel_order: Literal["rgb", "bgr"] = "rgb",
        padding: float = 1.25,
        batch_size: int = 32,
        keypoint_set: str = "coco_wholebody",
        mean: tuple[float, float, float] = IMAGENET_MEAN,
        std: tuple[float, float, float] = IMAGENET_STD,
        heatmap_udp: bool | None = None,
    ) -> None:
        if channel_order not in ("rgb", "bgr"):
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.backend = backend
        self.flip_test = flip_test
        self.channel_order = channel_order
        self.padding = padding
        self.batch_size = batch_size
        self.input_size = tuple(backend.input_size)
        self.flip_indices = get_keypoint_set(keypoint_set).flip_indices
        self.mean = np.asarray(mean, np.float32)
        self.std = np.asarray(std, np.float32)
        if heatmap_udp is None:
            heatmap_udp = bool(getattr(getattr(backend, "config", None), "heatmap_udp", False))
        self.udp = heatmap_udp and not backend.is_simcc

    # -- stages -------------------------------------------------------------------------
    def crop(self, image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, ...]:
        """Normalised crops (N, 3, h, w) float32, centers (N, 2), scales (N, 2)."""
        w, h = self.input_size
        center, scale = box_to_center_scale(boxes, self.padding)
        scale = fix_aspect_ratio(scale, w / h)
        warp = get_udp_warp_matrix if self.udp else get_warp_matrix
        mats = warp(center, scale, self.input_size)
        batch = np.empty((len(boxes), 3, h, w), np.float32)
        inv_std = 1.0 / self.std
        for i, m in enumerate(mats):
            crop = warp_affine(image, m, self.input_size)  # a fresh float32 (h, w, 3) array
            if self.channel_order == "bgr":
                crop = crop[..., ::-1]
            crop -= self.mean  # in place: no temporaries per crop
            crop *= inv_std
            batch[i] = crop.transpose(2, 0, 1)
        return batch, center, scale

    def forward(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decoded crop keypoints (N, K, 2) and scores (N, K), flip test included."""
        n = len(batch)
        inputs = np.concatenate([batch, batch[..., ::-1]]) if self.flip_test else batch
        outs = []
        for start in range(0, len(inputs), self.batch_size):
            outs.append(self.backend(inputs[start : start + self.batch_size]))
        merged = [np.concatenate([o[j] for o in outs]) for j in range(len(outs[0]))]
        if self.backend.is_simcc:
            sx, sy = merged
            if self.flip_test:
                fx, fy = flip_simcc(sx[n:], sy[n:], self.flip_indices)
                sx, sy = 0.5 * (sx[:n] + fx), 0.5 * (sy[:n] + fy)
            return decode_simcc(sx, sy, self.backend.split_ratio)
        (hm,) = merged
        if self.flip_test:
            hm = 0.5 * (hm[:n] + flip_heatmap(hm[n:], self.flip_indices))
        return decode_heatmap(hm, self.input_size, dark=True, udp=self.udp)

    # -- public -------------------------------------------------------------------------
    def predict(self, image: np.ndarray, boxes=None) -> PoseResult:
        """Keypoints for the boxes (N, 4) xyxy of one RGB image (None = whole image)."""
        return self.predict_frames([image], [boxes])[0]

    def predict_frames(self, images, boxes_per_image) -> list[PoseResult]:
        """All crops of all frames in shared batched forwards; one ``PoseResult`` per frame."""
        if len(images) != len(boxes_per_image):
            raise ValueError(f"{len(images)} images but {len(boxes_per_image)} box lists")
        k = len(self.flip_indices)
        crops, centers, scales, plan = [], [], [], []
        for image, boxes in zip(images, boxes_per_image, strict=True):
            img = check_image(image)
            b, valid = sanitize_boxes(boxes, img.shape[1], img.shape[0])
            plan.append((b, valid))
            if valid.any():
                batch, c, s = self.crop(img, b[valid])
                crops.append(batch)
                centers.append(c)
                scales.append(s)
        if crops:
            kpts_crop, scores_all = self.forward(np.concatenate(crops))
            kpts_all = warp_from_crop(
                kpts_crop, np.concatenate(centers), np.concatenate(scales), self.input_size
            )
        results, offset = [], 0
        for b, valid in plan:
            n = len(b)
            kpts = np.repeat(0.5 * (b[:, None, :2] + b[:, None, 2:]), k, axis=1)
            scores = np.zeros((n, k), np.float32)
            m = int(valid.sum())
            if m:
                kpts[valid] = kpts_all[offset : offset + m]
                scores[valid] = scores_all[offset : offset + m]
                offset += m
            results.append(PoseResult(kpts.astype(np.float32), scores, b, valid))
        return results

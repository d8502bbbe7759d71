"""Person detectors: an ONNX backend for released YOLOX / RTMDet files, whole-image mode.

Flavours (see the fact sheet, section 4.2):
- ``"yolox"``: Megvii YOLOX export (DWPose ``yolox_l.onnx``): raw ``[1, A, 5 + C]`` output with
  (cx, cy) offsets, log (w, h), objectness and class scores at strides 8/16/32; decoded here,
  class-agnostic NMS (IoU 0.45) then person (class 0) boxes above ``score_thr`` (DWPose).
- ``"yolox-mmdeploy"`` / ``"rtmdet"``: MMDeploy files with NMS in the graph: ``dets [1, N, 5]``
  (x1, y1, x2, y2, score) and ``labels [1, N]``; RTMDet normalises with BGR mean/std.
All take a top-left letterbox (pad 114) of the **BGR** image (images here are given RGB).
Every detector returns ``boxes (N, 4)`` xyxy image pixels and ``scores (N,)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np

from wholebody.crop import _axis_weights
from wholebody.inference.ort_backend import make_session

RTMDET_MEAN_BGR = (103.53, 116.28, 123.675)
RTMDET_STD_BGR = (57.375, 57.12, 58.395)


class WholeImageDetector:
    """One box covering the whole image, score 1 (rtmlib's behaviour without a detector)."""

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h, w = np.asarray(image).shape[:2]
        return np.array([[0.0, 0.0, w - 1.0, h - 1.0]]), np.ones(1)


def resize_bilinear(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear resize with half-pixel centres and replicated borders (``cv2.resize`` LINEAR)."""
    img = np.asarray(image)
    h, w = img.shape[:2]
    xs = np.clip((np.arange(width) + 0.5) * (w / width) - 0.5, 0, w - 1)
    ys = np.clip((np.arange(height) + 0.5) * (h / height) - 0.5, 0, h - 1)
    y0, y1, wy0, wy1 = _axis_weights(ys, h)
    x0, x1, wx0, wx1 = _axis_weights(xs, w)
    rows = img[y0].astype(np.float32) * wy0[:, None, None] + img[y1] * wy1[:, None, None]
    return (rows[:, x0] * wx0[None, :, None] + rows[:, x1] * wx1[None, :, None]).astype(np.float32)


def letterbox(image: np.ndarray, input_size: tuple[int, int], pad: float = 114.0):
    """RGB image -> BGR float32 (in_h, in_w, 3) top-left letterbox and its ratio r."""
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f"image: expected non-empty RGB (H, W, 3), got {img.shape}")
    in_w, in_h = input_size
    h, w = img.shape[:2]
    r = min(in_h / h, in_w / w)
    nw, nh = max(int(w * r), 1), max(int(h * r), 1)
    out = np.full((in_h, in_w, 3), pad, np.float32)
    out[:nh, :nw] = resize_bilinear(img, nw, nh)[..., ::-1]
    return out, r


def nms(boxes: np.ndarray, scores: np.ndarray, iou_thr: float) -> np.ndarray:
    """Greedy NMS (YOLOX demo convention: +1 in widths); indices kept, by descending score."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort()[::-1]
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        xx1, yy1 = np.maximum(x1[i], x1[order[1:]]), np.maximum(y1[i], y1[order[1:]])
        xx2, yy2 = np.minimum(x2[i], x2[order[1:]]), np.minimum(y2[i], y2[order[1:]])
        inter = np.maximum(0.0, xx2 - xx1 + 1) * np.maximum(0.0, yy2 - yy1 + 1)
        iou = inter / (areas[i] + areas[order[1:]] - inter)
        order = order[1:][iou <= iou_thr]
    return np.asarray(keep, dtype=np.int64)


def decode_yolox(
    raw: np.ndarray, input_size: tuple[int, int], strides: tuple[int, ...] = (8, 16, 32)
) -> tuple[np.ndarray, np.ndarray]:
    """Raw YOLOX output (A, 5 + C) -> boxes (A, 4) xyxy in letterbox pixels, scores (A, C)."""
    in_w, in_h = input_size
    grids, steps = [], []
    for s in strides:
        gy, gx = np.meshgrid(np.arange(in_h // s), np.arange(in_w // s), indexing="ij")
        grids.append(np.stack([gx, gy], -1).reshape(-1, 2))
        steps.append(np.full((grids[-1].shape[0], 1), s))
    grid, stride = np.concatenate(grids), np.concatenate(steps)
    if raw.shape[0] != grid.shape[0]:
        raise ValueError(f"YOLOX output has {raw.shape[0]} anchors, expected {grid.shape[0]}")
    xy = (raw[:, :2] + grid) * stride
    wh = np.exp(raw[:, 2:4]) * stride
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], axis=1)
    return boxes, raw[:, 4:5] * raw[:, 5:]


class OnnxPersonDetector:
    """ONNX person detector (user-supplied YOLOX / RTMDet file).

    Args:
        path: the .onnx file (ValueError naming it when missing).
        flavour: "auto" (1 output -> yolox; 2 outputs -> rtmdet if the file name says so,
            else yolox-mmdeploy), "yolox", "yolox-mmdeploy" or "rtmdet".
        score_thr: person score threshold (0.3 as DWPose).
        nms_thr: IoU threshold of the NMS for raw YOLOX outputs.
        input_size: (w, h) when the file's input is dynamic (default 640 x 640).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        flavour: Literal["auto", "yolox", "yolox-mmdeploy", "rtmdet"] = "auto",
        score_thr: float = 0.3,
        nms_thr: float = 0.45,
        input_size: tuple[int, int] | None = None,
        threads: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.session = make_session(path, threads)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        h, w = inp.shape[2:]
        if isinstance(h, int) and isinstance(w, int):
            self.input_size = (w, h)
        else:
            self.input_size = tuple(input_size or (640, 640))
        n_out = len(self.session.get_outputs())
        if flavour == "auto":
            if n_out == 1:
                flavour = "yolox"
            else:
                flavour = "rtmdet" if "rtmdet" in self.path.name.lower() else "yolox-mmdeploy"
        expected = 1 if flavour == "yolox" else 2
        if n_out != expected:
            raise ValueError(
                f"{self.path}: flavour {flavour!r} expects {expected} outputs, got {n_out}"
            )
        self.flavour = flavour
        self.score_thr, self.nms_thr = score_thr, nms_thr

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        padded, r = letterbox(image, self.input_size)
        if self.flavour == "rtmdet":
            padded = (padded - np.float32(RTMDET_MEAN_BGR)) / np.float32(RTMDET_STD_BGR)
        return np.ascontiguousarray(padded.transpose(2, 0, 1)[None], np.float32), r

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Person boxes (N, 4) xyxy image pixels (clipped) and scores (N,), by score."""
        batch, r = self.preprocess(image)
        outs = self.session.run(None, {self.input_name: batch})
        if self.flavour == "yolox":
            boxes, cls_scores = decode_yolox(outs[0][0], self.input_size)
            best = cls_scores.argmax(1)  # class-agnostic NMS as the YOLOX/DWPose demo
            score = cls_scores[np.arange(len(best)), best]
            keep = score > min(self.score_thr, 0.1)
            boxes, score, best = boxes[keep], score[keep], best[keep]
            kept = nms(boxes, score, self.nms_thr)
            boxes, score, best = boxes[kept], score[kept], best[kept]
            person = (best == 0) & (score > self.score_thr)
        else:
            dets, labels = outs[0][0], outs[1][0]
            boxes, score = dets[:, :4].astype(np.float64), dets[:, 4].astype(np.float64)
            person = (labels == 0) & (score > self.score_thr)
        boxes, score = boxes[person] / r, score[person]
        h, w = np.asarray(image).shape[:2]
        boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, w - 1)
        boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, h - 1)
        order = np.argsort(-score, kind="stable")
        return boxes[order], score[order]

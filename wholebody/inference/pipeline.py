"""Detector + top-down predictor in one call, with MMPose's person rescoring."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wholebody.inference.detector import WholeImageDetector
from wholebody.inference.topdown import TopdownPredictor


@dataclass(frozen=True)
class PeopleResult:
    """People found in one image (only valid boxes are kept)."""

    keypoints: np.ndarray  # (N, K, 2) image pixels
    scores: np.ndarray  # (N, K) keypoint scores
    boxes: np.ndarray  # (N, 4) xyxy
    box_scores: np.ndarray  # (N,) detector scores
    person_scores: np.ndarray  # (N,) box score x mean keypoint score above 0.2 (MMPose)


class WholebodyPipeline:
    """``pipeline(image RGB, boxes=None)``: given boxes (optionally with scores), else the
    detector's person boxes (whole image when no detector is given)."""

    def __init__(self, predictor: TopdownPredictor, detector=None, keypoint_thr: float = 0.2):
        self.predictor = predictor
        self.detector = detector if detector is not None else WholeImageDetector()
        self.keypoint_thr = keypoint_thr

    def __call__(self, image: np.ndarray, boxes=None, box_scores=None) -> PeopleResult:
        if boxes is None:
            boxes, box_scores = self.detector(image)
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        box_scores = np.ones(len(boxes)) if box_scores is None else np.asarray(box_scores, float)
        if box_scores.shape != (len(boxes),):
            raise ValueError(f"box_scores: expected ({len(boxes)},), got {box_scores.shape}")
        res = self.predictor.predict(image, boxes)
        v = res.valid
        ks = res.scores[v]
        passed = ks > self.keypoint_thr
        mean = np.where(passed, ks, 0).sum(1) / np.maximum(passed.sum(1), 1)
        return PeopleResult(res.keypoints[v], ks, res.boxes[v], box_scores[v], box_scores[v] * mean)

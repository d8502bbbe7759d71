"""People in the ControlNet OpenPose layout: 18-point body, feet, face, two hands.

Built from COCO-WholeBody (133) by name: the body goes through
``convert_keypoints(..., COCO_WHOLEBODY, OPENPOSE18)``, which synthesizes the neck as the
mid-shoulder point with DWPose's binary confidence (1 iff both shoulders > 0.3); feet, face
and hands are the COCO-WholeBody parts in their own order. Coordinates are float32 pixels
(DWPose's detector output dtype, so threshold comparisons and integer truncation match the
reference drawing exactly).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields

import numpy as np

from wholebody.keypoints import COCO_WHOLEBODY, OPENPOSE18, convert_keypoints
from wholebody.keypoints.validate import check_keypoints

log = logging.getLogger(__name__)

# OpenCV draws with 16-bit sub-pixel fixed point in 32-bit integers; coordinates beyond this
# magnitude (pixels) are treated as missing instead of overflowing the drawing primitives.
MAX_ABS_COORD = 2.0**15

# COCO-WholeBody part indices, derived from the names once (KeypointSet.parts recomputes).
_COCO_PARTS = {
    "feet": COCO_WHOLEBODY.parts["foot"],
    "face": COCO_WHOLEBODY.parts["face"],
    "left_hand": COCO_WHOLEBODY.parts["left_hand"],
    "right_hand": COCO_WHOLEBODY.parts["right_hand"],
}
FOOT_NAMES = tuple(COCO_WHOLEBODY.names[i] for i in _COCO_PARTS["feet"])
# The two points sd-webui / comfy append to the 68 face landmarks to get OpenPose's 70.
FACE70_EXTRA = ("right_eye", "left_eye")

PARTS = ("body", "feet", "face", "left_hand", "right_hand")


@dataclass(frozen=True, eq=False)
class OpenPosePeople:
    """N people on one canvas, pixels (x right, y down), float32, scores in [0, 1].

    Attributes:
        body: ``(N, 18, 2)`` in ``OPENPOSE18`` order; ``body_scores`` ``(N, 18)``.
        feet: ``(N, 6, 2)`` COCO-WholeBody foot order (`FOOT_NAMES`); ``feet_scores``.
        face: ``(N, 68, 2)`` or ``(N, 70, 2)`` (OpenPose's 70: + right, left eye); ``face_scores``.
        left_hand, right_hand: ``(N, 21, 2)`` wrist, thumb..pinky; with scores.
    """

    body: np.ndarray
    body_scores: np.ndarray
    feet: np.ndarray
    feet_scores: np.ndarray
    face: np.ndarray
    face_scores: np.ndarray
    left_hand: np.ndarray
    left_hand_scores: np.ndarray
    right_hand: np.ndarray
    right_hand_scores: np.ndarray

    def __post_init__(self) -> None:
        counts = {"body": (18,), "feet": (6,), "face": (68, 70), "left_hand": (21,),
                  "right_hand": (21,)}  # fmt: skip
        n = None
        for part, allowed in counts.items():
            xy = np.asarray(getattr(self, part), dtype=np.float32)
            sc = np.asarray(getattr(self, part + "_scores"), dtype=np.float32)
            if xy.ndim != 3 or xy.shape[1] not in allowed or xy.shape[2] != 2:
                raise ValueError(f"{part}: expected shape (N, {allowed}, 2), got {xy.shape}")
            if sc.shape != xy.shape[:2]:
                raise ValueError(f"{part}_scores: expected shape {xy.shape[:2]}, got {sc.shape}")
            if n is not None and xy.shape[0] != n:
                raise ValueError(f"{part}: expected N={n} people, got {xy.shape[0]}")
            n = xy.shape[0]
            object.__setattr__(self, part, xy)
            object.__setattr__(self, part + "_scores", sc)

    def __len__(self) -> int:
        return int(self.body.shape[0])

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(points, scores)`` of one of `PARTS`."""
        if name not in PARTS:
            raise ValueError(f"unknown part {name!r}, expected one of {PARTS}")
        return getattr(self, name), getattr(self, name + "_scores")

    def take(self, index) -> OpenPosePeople:
        """The people at ``index`` (indices or a boolean mask over N)."""
        return _replace(self, **{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def with_face70(self) -> OpenPosePeople:
        """Face with OpenPose's 70 points: the 68 landmarks + body right eye, left eye."""
        if self.face.shape[1] == 70:
            return self
        eyes = [OPENPOSE18.index(n) for n in FACE70_EXTRA]
        face = np.concatenate([self.face, self.body[:, eyes]], axis=1)
        scores = np.concatenate([self.face_scores, self.body_scores[:, eyes]], axis=1)
        return _replace(self, face=face, face_scores=scores)

    def rescaled(self, src_size, dst_size) -> OpenPosePeople:
        """The same people on a resized canvas (pixel centres map to pixel centres)."""
        from wholebody.controlnet.sizing import rescale_points

        return _replace(self, **{p: rescale_points(getattr(self, p), src_size, dst_size)
                                 for p in PARTS})  # fmt: skip


def _replace(people: OpenPosePeople, **changes) -> OpenPosePeople:
    values = {f.name: getattr(people, f.name) for f in fields(people)}
    values.update(changes)
    return OpenPosePeople(**values)


def empty_people(face_points: int = 68) -> OpenPosePeople:
    """Zero people."""
    z = {"body": 18, "feet": 6, "face": face_points, "left_hand": 21, "right_hand": 21}
    kw = {}
    for part, j in z.items():
        kw[part] = np.zeros((0, j, 2), np.float32)
        kw[part + "_scores"] = np.zeros((0, j), np.float32)
    return OpenPosePeople(**kw)


def from_coco_wholebody(keypoints, scores) -> OpenPosePeople:
    """COCO-WholeBody ``(N, 133, 2)`` pixels + ``(N, 133)`` scores -> `OpenPosePeople`.

    NaN coordinates, and coordinates beyond ``MAX_ABS_COORD`` pixels, mark a point missing
    (score 0). Scores must be finite. ``N = 0`` gives zero people.
    """
    kp = check_keypoints(keypoints, COCO_WHOLEBODY, dims=(2,), allow_nan=True)
    if kp.ndim != 3:
        raise ValueError(f"keypoints: expected shape (N, 133, 2), got {kp.shape}")
    kp = kp.astype(np.float32)
    sc = np.asarray(scores)
    if sc.dtype.kind not in "fiub":
        raise ValueError(f"scores: expected a numeric array, got dtype {sc.dtype}")
    sc = sc.astype(np.float32)
    if sc.shape != kp.shape[:2]:
        raise ValueError(f"scores: expected shape {kp.shape[:2]}, got {sc.shape}")
    if not np.all(np.isfinite(sc)):
        raise ValueError("scores: expected finite values, got NaN/inf")
    bad = ~np.all(np.isfinite(kp) & (np.abs(kp) <= MAX_ABS_COORD), axis=-1)
    if bad.any():
        log.debug("%d keypoints NaN or beyond %g px: treated as missing", bad.sum(), MAX_ABS_COORD)
        kp = np.where(bad[..., None], np.float32(0), kp)
        sc = np.where(bad, np.float32(0), sc)
    body, body_scores = convert_keypoints(kp, sc, COCO_WHOLEBODY, OPENPOSE18)
    parts = {}
    for part, idx in _COCO_PARTS.items():
        parts[part], parts[part + "_scores"] = kp[:, idx], sc[:, idx]
    return OpenPosePeople(body=body, body_scores=body_scores, **parts)

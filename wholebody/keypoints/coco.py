"""COCO (17) and COCO-WholeBody (133) keypoint sets.

Order, names, flip pairs, links and OKS sigmas follow MMPose's
``configs/_base_/datasets/coco_wholebody.py`` and xtcocotools' whole-body demo
(see ``shared/reference/wholebody2d.md`` §2).
"""

from __future__ import annotations

import numpy as np

from wholebody.keypoints.base import KeypointSet, links_by_name, side_link_colours

COCO_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
FOOT_NAMES = (
    "left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel",
)  # fmt: skip
FACE_NAMES = tuple(f"face-{k}" for k in range(68))
_FINGERS = ("thumb", "forefinger", "middle_finger", "ring_finger", "pinky_finger")


def _hand_names(side: str) -> tuple[str, ...]:
    """Root then 4 joints per finger, base to tip (OpenPose hand order)."""
    return (f"{side}_hand_root",) + tuple(f"{side}_{f}{k}" for f in _FINGERS for k in range(1, 5))


LEFT_HAND_NAMES = _hand_names("left")
RIGHT_HAND_NAMES = _hand_names("right")
COCO_WHOLEBODY_NAMES = COCO_NAMES + FOOT_NAMES + FACE_NAMES + LEFT_HAND_NAMES + RIGHT_HAND_NAMES

# Face landmark pairs (iBUG-68 numbering) swapped by a horizontal flip; names cannot give them.
FACE_FLIP_PAIRS = (
    (0, 16), (1, 15), (2, 14), (3, 13), (4, 12), (5, 11), (6, 10), (7, 9),  # jaw contour
    (17, 26), (18, 25), (19, 24), (20, 23), (21, 22),  # eyebrows
    (31, 35), (32, 34),  # nostrils
    (36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46),  # eyes
    (48, 54), (49, 53), (50, 52), (55, 59), (56, 58), (60, 64), (61, 63), (65, 67),  # mouth
)  # fmt: skip

COCO_BODY_LINKS = (
    ("left_ankle", "left_knee"), ("left_knee", "left_hip"), ("right_ankle", "right_knee"),
    ("right_knee", "right_hip"), ("left_hip", "right_hip"), ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"), ("left_shoulder", "right_shoulder"),
    ("left_shoulder", "left_elbow"), ("right_shoulder", "right_elbow"),
    ("left_elbow", "left_wrist"), ("right_elbow", "right_wrist"), ("left_eye", "right_eye"),
    ("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"),
    ("right_eye", "right_ear"), ("left_ear", "left_shoulder"), ("right_ear", "right_shoulder"),
)  # fmt: skip
FOOT_LINKS = (
    ("left_ankle", "left_big_toe"), ("left_ankle", "left_small_toe"), ("left_ankle", "left_heel"),
    ("right_ankle", "right_big_toe"), ("right_ankle", "right_small_toe"),
    ("right_ankle", "right_heel"),
)  # fmt: skip


def _hand_links(side: str) -> tuple[tuple[str, str], ...]:
    links = []
    for f in _FINGERS:
        chain = [f"{side}_hand_root"] + [f"{side}_{f}{k}" for k in range(1, 5)]
        links += list(zip(chain[:-1], chain[1:]))
    return tuple(links)


COCO_WHOLEBODY_LINKS = COCO_BODY_LINKS + FOOT_LINKS + _hand_links("left") + _hand_links("right")

COCO_SIGMAS = np.array([
    0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107,
    0.087, 0.087, 0.089, 0.089,
])  # fmt: skip
FOOT_SIGMAS = np.array([0.068, 0.066, 0.066, 0.092, 0.094, 0.094])
FACE_SIGMAS = np.array([
    0.042, 0.043, 0.044, 0.043, 0.040, 0.035, 0.031, 0.025, 0.020, 0.023, 0.029, 0.032, 0.037,
    0.038, 0.043, 0.041, 0.045, 0.013, 0.012, 0.011, 0.011, 0.012, 0.012, 0.011, 0.011, 0.013,
    0.015, 0.009, 0.007, 0.007, 0.007, 0.012, 0.009, 0.008, 0.016, 0.010, 0.017, 0.011, 0.009,
    0.011, 0.009, 0.007, 0.013, 0.008, 0.011, 0.012, 0.010, 0.034, 0.008, 0.008, 0.009, 0.008,
    0.008, 0.007, 0.010, 0.008, 0.009, 0.009, 0.009, 0.007, 0.007, 0.008, 0.011, 0.008, 0.008,
    0.008, 0.01, 0.008,
])  # fmt: skip
HAND_SIGMAS = np.array([
    0.029, 0.022, 0.035, 0.037, 0.047, 0.026, 0.025, 0.024, 0.035, 0.018, 0.024, 0.022, 0.026,
    0.017, 0.021, 0.021, 0.032, 0.02, 0.019, 0.022, 0.031,
])  # fmt: skip

COCO = KeypointSet(
    name="coco",
    names=COCO_NAMES,
    links=links_by_name(COCO_NAMES, COCO_BODY_LINKS),
    link_colours=side_link_colours(COCO_NAMES, links_by_name(COCO_NAMES, COCO_BODY_LINKS)),
    sigmas=COCO_SIGMAS,
)

_WB_LINKS = links_by_name(COCO_WHOLEBODY_NAMES, COCO_WHOLEBODY_LINKS)
_FACE0 = COCO_WHOLEBODY_NAMES.index("face-0")
COCO_WHOLEBODY = KeypointSet(
    name="coco_wholebody",
    names=COCO_WHOLEBODY_NAMES,
    links=_WB_LINKS,
    link_colours=side_link_colours(COCO_WHOLEBODY_NAMES, _WB_LINKS),
    sigmas=np.concatenate([COCO_SIGMAS, FOOT_SIGMAS, FACE_SIGMAS, HAND_SIGMAS, HAND_SIGMAS]),
    extra_flip_pairs=tuple((_FACE0 + a, _FACE0 + b) for a, b in FACE_FLIP_PAIRS),
)

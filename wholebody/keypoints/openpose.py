"""OpenPose layouts: the 18-point body that ControlNet draws, and BODY_25.

Limb order and colours are those of the ControlNet OpenPose drawing (pytorch-openpose palette;
``shared/reference/controlnet_eval.md`` §1.4): limb i and joint i use ``OPENPOSE_COLOURS[i]``.
"""

from __future__ import annotations

from wholebody.keypoints.base import KeypointSet, links_by_name, side_link_colours

OPENPOSE18_NAMES = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
    "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip",
    "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear",
)  # fmt: skip

OPENPOSE_COLOURS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)  # fmt: skip

# The 17 limbs ControlNet draws, in drawing order (limbSeq without the two shoulder-ear limbs).
OPENPOSE18_LIMBS = (
    ("neck", "right_shoulder"), ("neck", "left_shoulder"), ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("neck", "right_hip"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
    ("neck", "left_hip"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("neck", "nose"), ("nose", "right_eye"), ("right_eye", "right_ear"), ("nose", "left_eye"),
    ("left_eye", "left_ear"),
)  # fmt: skip

OPENPOSE18 = KeypointSet(
    name="openpose18",
    names=OPENPOSE18_NAMES,
    links=links_by_name(OPENPOSE18_NAMES, OPENPOSE18_LIMBS),
    link_colours=OPENPOSE_COLOURS[:17],
    root="neck",
)

BODY25_NAMES = OPENPOSE18_NAMES[:8] + ("mid_hip",) + OPENPOSE18_NAMES[8:] + (
    "left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe",
    "right_heel",
)  # fmt: skip
_BODY25_LINKS = (
    ("neck", "nose"), ("neck", "right_shoulder"), ("neck", "left_shoulder"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"), ("neck", "mid_hip"),
    ("mid_hip", "right_hip"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
    ("mid_hip", "left_hip"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("nose", "right_eye"), ("right_eye", "right_ear"), ("nose", "left_eye"),
    ("left_eye", "left_ear"), ("left_ankle", "left_big_toe"), ("left_big_toe", "left_small_toe"),
    ("left_ankle", "left_heel"), ("right_ankle", "right_big_toe"),
    ("right_big_toe", "right_small_toe"), ("right_ankle", "right_heel"),
)  # fmt: skip
BODY25 = KeypointSet(
    name="body25",
    names=BODY25_NAMES,
    links=links_by_name(BODY25_NAMES, _BODY25_LINKS),
    link_colours=side_link_colours(BODY25_NAMES, links_by_name(BODY25_NAMES, _BODY25_LINKS)),
    root="mid_hip",
)

"""ControlNet conditioning: OpenPose pose maps, OpenPose JSON, depth and normal maps.

numpy + pillow, OpenCV only for the drawing primitives the reference annotators use. Never
imports torch.
"""

from wholebody.controlnet.draw import STYLES, PoseStyle, draw_pose, get_style
from wholebody.controlnet.layout import (
    FOOT_NAMES,
    OpenPosePeople,
    empty_people,
    from_coco_wholebody,
)
from wholebody.controlnet.pose_map import pose_canvas, pose_map
from wholebody.controlnet.sizing import controlnet_size, rescale_points, resize_map, round_size

__all__ = [
    "FOOT_NAMES",
    "STYLES",
    "OpenPosePeople",
    "PoseStyle",
    "controlnet_size",
    "draw_pose",
    "empty_people",
    "from_coco_wholebody",
    "get_style",
    "pose_canvas",
    "pose_map",
    "rescale_points",
    "resize_map",
    "round_size",
]

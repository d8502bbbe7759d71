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
from wholebody.controlnet.mesh_maps import (
    MeshRender,
    depth_map,
    framing_camera,
    normal_map,
    render_mesh,
    vertex_normals,
)
from wholebody.controlnet.openpose_json import (
    PoseFrame,
    frame_from_dict,
    frame_to_dict,
    read_openpose_json,
    write_openpose_json,
)
from wholebody.controlnet.pose_map import pose_canvas, pose_map, project_keypoints
from wholebody.controlnet.raster import Fragments, rasterize
from wholebody.controlnet.sizing import controlnet_size, rescale_points, resize_map, round_size

__all__ = [
    "FOOT_NAMES",
    "STYLES",
    "Fragments",
    "MeshRender",
    "OpenPosePeople",
    "PoseFrame",
    "PoseStyle",
    "controlnet_size",
    "depth_map",
    "frame_from_dict",
    "frame_to_dict",
    "framing_camera",
    "normal_map",
    "rasterize",
    "read_openpose_json",
    "render_mesh",
    "vertex_normals",
    "write_openpose_json",
    "draw_pose",
    "empty_people",
    "from_coco_wholebody",
    "get_style",
    "pose_canvas",
    "pose_map",
    "project_keypoints",
    "rescale_points",
    "resize_map",
    "round_size",
]

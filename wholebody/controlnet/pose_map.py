"""Pose maps from COCO-WholeBody keypoints, with controlnet_aux's canvas sizing."""

from __future__ import annotations

import numpy as np

from wholebody.controlnet.draw import PoseStyle, draw_pose
from wholebody.controlnet.layout import OpenPosePeople, from_coco_wholebody
from wholebody.controlnet.sizing import _size, controlnet_size, rescale_points, resize_map
from wholebody.keypoints import COCO_WHOLEBODY
from wholebody.keypoints.validate import check_keypoints


def pose_canvas(
    keypoints, scores, image_size, detect_resolution: int | None = None
) -> tuple[OpenPosePeople, tuple[int, int]]:
    """People in the drawing canvas and its ``(H, W)``.

    Args:
        keypoints: ``(N, 133, 2)`` COCO-WholeBody pixels of an ``image_size`` image.
        scores: ``(N, 133)``.
        image_size: ``(height, width)`` of the image the keypoints belong to.
        detect_resolution: ``None`` draws at ``image_size``; else at ControlNet's
            ``resize_image`` size (short side -> resolution, sides multiples of 64) with the
            keypoints moved accordingly, as controlnet_aux's ``DWposeDetector``.
    """
    height, width = _size(*image_size)
    if detect_resolution is None:
        return from_coco_wholebody(keypoints, scores), (height, width)
    canvas = controlnet_size(height, width, detect_resolution)
    # Move the 133 points first (the detector sees the resized image), then make the neck.
    kp = check_keypoints(keypoints, COCO_WHOLEBODY, dims=(2,), allow_nan=True).astype(np.float32)
    if canvas != (height, width):
        kp = rescale_points(kp, (height, width), canvas)
    return from_coco_wholebody(kp, scores), canvas


def pose_map(
    keypoints,
    scores,
    image_size,
    detect_resolution: int | None = None,
    image_resolution: int | None = None,
    style: str | PoseStyle | None = None,
) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB OpenPose map of N people.

    ``detect_resolution=None, image_resolution=None``: drawn at exactly ``image_size``.
    With both set, the result equals controlnet_aux's ``DWposeDetector(image,
    detect_resolution, image_resolution)`` drawing for these keypoints: drawn at the detect
    size, then bilinearly resized to the image-resolution size. ``N = 0`` gives a black map.
    """
    people, (h, w) = pose_canvas(keypoints, scores, image_size, detect_resolution)
    canvas = draw_pose(people, h, w, style)
    if image_resolution is None:
        return canvas
    oh, ow = controlnet_size(*_size(*image_size), image_resolution)
    return resize_map(canvas, oh, ow)


def project_keypoints(keypoints3d, camera, near: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """``(..., J, 3)`` points (metres, the frame ``camera``'s extrinsics map from) ->
    ``(..., J, 2)`` pixels and ``(..., J)`` scores: 1 in front of the camera, 0 (and NaN
    pixels) behind it. Pose maps of a fitted body drawn this way line up with its depth and
    normal maps rendered with the same camera."""
    kp = check_keypoints(keypoints3d, dims=(3,), name="keypoints3d")
    cam = camera.world_to_camera(kp)
    front = cam[..., 2] > near
    uv = np.full(cam.shape[:-1] + (2,), np.nan)
    uv[front] = camera.project(cam[front])
    return uv, front.astype(np.float32)

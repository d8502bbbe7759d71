"""Maps for every frame of a sequence, written as PNG frames, a video and OpenPose JSON.

PNG frames are written one by one (atomically), so an interrupted run keeps its finished
frames; the video goes through `wholebody.media.VideoWriter` (temp file + rename).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from wholebody.camera import Camera
from wholebody.controlnet.draw import PoseStyle, draw_pose, get_style
from wholebody.controlnet.mesh_maps import depth_map, normal_map, render_mesh
from wholebody.controlnet.openpose_json import PoseFrame, write_openpose_json
from wholebody.controlnet.pose_map import pose_canvas
from wholebody.controlnet.smoothing import smooth_keypoints, track_people
from wholebody.keypoints import COCO_WHOLEBODY
from wholebody.media import VideoWriter, write_image

log = logging.getLogger(__name__)


def check_sequence(keypoints, scores) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``(T, N, 133, 2)`` keypoints (NaN allowed: missing) and ``(T, N, 133)`` scores."""
    kp = np.asarray(keypoints)
    sc = np.asarray(scores)
    if kp.dtype.kind not in "fiu" or kp.ndim != 4 or kp.shape[2:] != (len(COCO_WHOLEBODY), 2):
        raise ValueError(f"keypoints: expected shape (T, N, 133, 2), got {kp.shape}")
    if sc.dtype.kind not in "fiub" or sc.shape != kp.shape[:3]:
        raise ValueError(f"scores: expected shape {kp.shape[:3]}, got {sc.shape}")
    if not np.all(np.isfinite(sc)):
        raise ValueError("scores: expected finite values, got NaN/inf")
    return kp.astype(np.float32), sc.astype(np.float32)


def pose_sequence(
    keypoints,
    scores,
    image_size,
    resolution: int | None = None,
    style: str | PoseStyle | None = None,
    smoothing: str = "savgol",
    track: bool = True,
    **smooth_kwargs,
) -> Iterator[tuple[np.ndarray, PoseFrame]]:
    """Yield ``(map, frame)`` per frame of ``(T, N, 133, 2)`` keypoints, smoothed first
    (``"savgol"``, ``"one_euro"`` or ``"none"``). Before smoothing, ``track`` reorders the
    people of each frame to follow identities (`track_people`); with ``track=False`` index n
    must already be one person. ``resolution``: ``None`` = exactly ``image_size``; else
    ControlNet's multiple-of-64 detect size."""
    kp, sc = check_sequence(keypoints, scores)
    style = get_style(style)
    if kp.shape[0] > 1 and smoothing != "none":
        if track and kp.shape[1] > 1:  # detectors list people in any order: follow identities
            order = track_people(kp, sc, style.part_threshold)
            kp = np.take_along_axis(kp, order[..., None, None], axis=1)
            sc = np.take_along_axis(sc, order[..., None], axis=1)
        kp = smooth_keypoints(kp, sc, smoothing, threshold=style.part_threshold, **smooth_kwargs)
        kp = kp.astype(np.float32)
    for t in range(kp.shape[0]):
        people, (h, w) = pose_canvas(kp[t], sc[t], image_size, resolution)
        yield draw_pose(people, h, w, style), PoseFrame(people, h, w)


def mesh_sequence(
    vertices, faces, camera: Camera, kind: str, near=None, far=None, background=(0, 0, 0)
) -> Iterator[np.ndarray]:
    """Yield a ``"depth"`` or ``"normal"`` map per frame of ``(T, V, 3)`` vertices.
    Give ``near``/``far`` for depth maps that do not flicker with per-frame normalisation."""
    if kind not in ("depth", "normal"):
        raise ValueError(f"kind: expected 'depth' or 'normal', got {kind!r}")
    v = np.asarray(vertices)
    if v.ndim != 3 or v.shape[-1] != 3:
        raise ValueError(f"vertices: expected shape (T, V, 3), got {v.shape}")
    for t in range(v.shape[0]):
        render = render_mesh(v[t], faces, camera)
        yield depth_map(render, near, far) if kind == "depth" else normal_map(render, background)


def write_maps(
    out_dir,
    maps,
    prefix: str,
    fps: float | None = 30.0,
    callback: Callable[[int, np.ndarray], None] | None = None,
) -> int:
    """Write ``out_dir/{prefix}_{t:05d}.png`` per map and, if ``fps``, ``out_dir/{prefix}.mp4``.

    ``maps`` yields ``(H, W, 3)`` uint8 arrays (or ``(map, extra)`` pairs, extra passed to
    ``callback(t, extra)``). Returns the frame count."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    writer = VideoWriter(out / f"{prefix}.mp4", fps) if fps else None
    count = 0
    try:
        for t, item in enumerate(maps):
            image, extra = item if isinstance(item, tuple) else (item, None)
            write_image(out / f"{prefix}_{t:05d}.png", image)
            if writer is not None:
                writer.write(image)
            if callback is not None:
                callback(t, extra)
            count += 1
    finally:
        if writer is not None:
            writer.close()
    return count


def write_pose_sequence(out_dir, keypoints, scores, image_size, fps: float | None = 30.0,
                        callback=None, **kwargs) -> int:  # fmt: skip
    """`pose_sequence` -> ``pose_{t:05d}.png``, ``pose.mp4`` and ``openpose.json`` (the
    per-frame list, written at the end)."""
    frames: list[PoseFrame] = []

    def keep(t, frame):
        frames.append(frame)
        if callback is not None:
            callback(t, frame)

    seq = pose_sequence(keypoints, scores, image_size, **kwargs)
    count = write_maps(out_dir, seq, "pose", fps, keep)
    write_openpose_json(Path(out_dir) / "openpose.json", frames, kwargs.get("style"))
    return count

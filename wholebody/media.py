"""Image and video IO: images through PIL, video as frame iterators through imageio-ffmpeg.

Frames are ``(H, W, 3)`` uint8 RGB. Videos are never loaded whole: `iter_video_frames`
yields frames one at a time and `VideoWriter` appends them; fps is kept.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


def read_image(path) -> np.ndarray:
    """Read an image file as ``(H, W, 3)`` uint8 RGB; ValueError if missing or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"image file not found: {path}")
    try:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"cannot read image {path}: {err}") from err
    if arr.size == 0:
        raise ValueError(f"image {path} is empty (shape {arr.shape})")
    return arr


def check_frame(frame, name: str = "frame") -> np.ndarray:
    """Validate an ``(H, W, 3)`` uint8 frame."""
    arr = np.asarray(frame)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name}: expected shape (H, W, 3) with H, W > 0, got {arr.shape}")
    if arr.dtype != np.uint8:
        raise ValueError(f"{name}: expected dtype uint8, got {arr.dtype}")
    return arr


def write_image(path, image) -> None:
    """Write ``(H, W, 3)`` uint8 RGB atomically (temp file + rename)."""
    arr = check_frame(image, "image")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    Image.fromarray(arr).save(tmp)
    os.replace(tmp, path)


@dataclass(frozen=True)
class VideoInfo:
    fps: float
    width: int
    height: int
    num_frames: int | None  # from the container header; None when unknown


def video_info(path) -> VideoInfo:
    """Frame rate, size and (header) frame count of a video file."""
    import imageio.v2 as iio

    path = _existing(path, "video")
    try:
        reader = iio.get_reader(path, format="FFMPEG")
    except Exception as err:  # imageio raises several types for unreadable containers
        raise ValueError(f"cannot open video {path}: {err}") from err
    try:
        meta = reader.get_meta_data()
        w, h = meta["size"]
        try:
            n = reader.count_frames()
        except Exception:
            n = None
        return VideoInfo(float(meta.get("fps", 0.0)), int(w), int(h), n)
    finally:
        reader.close()


def iter_video_frames(path, strict: bool = False) -> Iterator[np.ndarray]:
    """Yield ``(H, W, 3)`` uint8 RGB frames one at a time.

    A video truncated mid-stream yields every frame that decodes, then stops with a warning
    (``strict=True`` raises ValueError instead). An unopenable file raises ValueError.
    """
    import imageio.v2 as iio

    path = _existing(path, "video")
    try:
        reader = iio.get_reader(path, format="FFMPEG")
    except Exception as err:
        raise ValueError(f"cannot open video {path}: {err}") from err
    count = 0
    try:
        it = iter(reader)
        while True:
            try:
                frame = next(it)
            except StopIteration:
                break
            except Exception as err:  # decoder failure part-way: keep what was read
                if strict:
                    raise ValueError(f"video {path} failed after {count} frames: {err}") from err
                log.warning("video %s stopped decoding after %d frames: %s", path, count, err)
                break
            count += 1
            yield np.ascontiguousarray(frame[..., :3])
    finally:
        reader.close()
    if count == 0:
        raise ValueError(f"video {path} has no decodable frames")


class VideoWriter:
    """Append ``(H, W, 3)`` uint8 frames to an H.264 (or other ffmpeg) video, keeping fps.

    Frames must all have the first frame's size; the size is kept exactly (no macro-block
    resizing). Writes to a temporary file and renames on close, so a crash never leaves a
    half-written file under the final name.
    """

    def __init__(self, path, fps: float, codec: str = "libx264", quality: float | None = 8):
        if not fps or fps <= 0 or not np.isfinite(fps):
            raise ValueError(f"fps: expected a positive number, got {fps}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.stem}.tmp{self.path.suffix}")
        self.fps, self.codec, self.quality = float(fps), codec, quality
        self._writer = None
        self._size: tuple[int, int] | None = None
        self.frames_written = 0

    def write(self, frame) -> None:
        import imageio.v2 as iio

        frame = check_frame(frame)
        if self._writer is None:
            self._size = frame.shape[:2]
            self._writer = iio.get_writer(
                self._tmp, format="FFMPEG", fps=self.fps, codec=self.codec,
                quality=self.quality, macro_block_size=1, pixelformat="yuv420p"
                if frame.shape[0] % 2 == 0 and frame.shape[1] % 2 == 0 else "yuv444p",
            )  # fmt: skip
        elif frame.shape[:2] != self._size:
            raise ValueError(f"frame: expected size {self._size}, got {frame.shape[:2]}")
        self._writer.append_data(frame)
        self.frames_written += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            os.replace(self._tmp, self.path)
            self._writer = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        elif self._writer is not None:  # keep the frames written so far under the tmp name
            self._writer.close()
            self._writer = None
            log.warning(
                "video writing failed; %d frames kept in %s", self.frames_written, self._tmp
            )


def write_video(path, frames, fps: float) -> int:
    """Write an iterable of frames; returns the frame count."""
    with VideoWriter(path, fps) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.frames_written


def _existing(path, kind: str) -> str:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{kind} file not found: {path}")
    return str(path)

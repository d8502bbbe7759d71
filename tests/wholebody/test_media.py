"""Image and video IO: round trips, fps kept, truncated and missing files."""

import numpy as np
import pytest

from wholebody.media import (
    VideoWriter,
    iter_video_frames,
    read_image,
    video_info,
    write_image,
    write_video,
)


def _frames(n, h=48, w=64):
    for i in range(n):
        f = np.zeros((h, w, 3), np.uint8)
        f[:, : (i * 5) % w] = 200
        yield f


def test_video_round_trip_keeps_count_size_fps(tmp_path):
    path = tmp_path / "clip.mp4"
    assert write_video(path, _frames(12, 50, 70), fps=25.0) == 12
    info = video_info(path)
    assert (info.width, info.height) == (70, 50)
    assert info.fps == pytest.approx(25.0)
    frames = list(iter_video_frames(path))
    assert len(frames) == 12
    assert frames[0].shape == (50, 70, 3) and frames[0].dtype == np.uint8
    # lossy codec: content still close
    assert np.abs(frames[5].astype(int) - list(_frames(12, 50, 70))[5]).mean() < 10


def test_truncated_video_keeps_decodable_frames(tmp_path):
    path = tmp_path / "clip.mp4"
    write_video(path, _frames(30), fps=30.0)
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 4])
    try:
        frames = list(iter_video_frames(cut))
    except ValueError as err:  # nothing decodable at all is a clear error, never a crash
        assert "cut.mp4" in str(err)
    else:
        assert 0 <= len(frames) < 30


def test_image_round_trip_and_errors(tmp_path):
    img = np.random.default_rng(0).integers(0, 255, size=(20, 30, 3), dtype=np.uint8)
    write_image(tmp_path / "a.png", img)
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), img)
    with pytest.raises(ValueError, match="not found"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="cannot read image"):
        read_image(tmp_path / "bad.png")
    with pytest.raises(ValueError, match="not found"):
        list(iter_video_frames(tmp_path / "missing.mp4"))
    with pytest.raises(ValueError, match="uint8"):
        VideoWriter(tmp_path / "x.mp4", 10).write(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="fps"):
        VideoWriter(tmp_path / "x.mp4", 0)

"""Clip slicing: fixed-length windows with a stride, and MotionBERT's tail resampling (numpy).

All functions return integer frame indices ``(K, n_frames)`` into a sequence (or into a flat
per-frame array), so data and labels are sliced identically.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

TAILS = ("drop", "last", "resample")


def resample_indices(length: int, n_frames: int, rng: np.random.Generator | None = None):
    """``n_frames`` sorted indices spread over ``range(length)`` (frames repeat if shorter).

    Deterministic (``rng=None``): ``floor(linspace(0, length, n_frames, endpoint=False))``.
    With ``rng``: MotionBERT's random variant (random floor/ceil when upsampling, a random
    offset inside each interval when downsampling).
    """
    if length < 1 or n_frames < 1:
        raise ValueError(f"resample: expected length, n_frames >= 1, got {length}, {n_frames}")
    even = np.linspace(0, length, num=n_frames, endpoint=False)
    if rng is None:
        out = np.floor(even)
    elif length < n_frames:
        pick_low = rng.integers(0, 2, size=even.shape).astype(bool)
        out = np.sort(np.where(pick_low, np.floor(even), np.ceil(even)))
    else:
        out = even + rng.random(even.shape) * (even[1] - even[0] if n_frames > 1 else length)
    return np.clip(out, 0, length - 1).astype(np.int64)


def clip_indices(
    length: int,
    n_frames: int,
    stride: int | None = None,
    tail: str = "resample",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Windows over one sequence of ``length`` frames -> ``(K, n_frames)`` indices.

    Windows start at 0, stride, 2 stride, ... while they fit. Frames after the last full
    window (the tail) are handled by ``tail``:

    - ``"drop"``: ignored (MotionBERT for sequences that gave at least one clip);
    - ``"last"``: one more window ending at the last frame (MixSTE-style, overlapping);
    - ``"resample"``: the tail frames resampled to ``n_frames`` indices (frames repeat).

    A sequence shorter than ``n_frames`` is always resampled to a single clip, except with
    ``"drop"`` where it gives no clip.
    """
    stride = n_frames if stride is None else int(stride)
    if n_frames < 1 or stride < 1:
        raise ValueError(f"clips: expected n_frames >= 1 and stride >= 1, got {n_frames}, {stride}")
    if tail not in TAILS:
        raise ValueError(f"tail: expected one of {TAILS}, got {tail!r}")
    if length < 1:
        return np.zeros((0, n_frames), dtype=np.int64)
    if length < n_frames:
        if tail == "drop":
            return np.zeros((0, n_frames), dtype=np.int64)
        return resample_indices(length, n_frames, rng)[None]
    starts = np.arange(0, length - n_frames + 1, stride)
    clips = [np.arange(s, s + n_frames) for s in starts]
    covered = starts[-1] + n_frames
    if covered < length:
        if tail == "last":
            clips.append(np.arange(length - n_frames, length))
        elif tail == "resample":
            clips.append(covered + resample_indices(length - covered, n_frames, rng))
    return np.stack(clips).astype(np.int64)


def motionbert_split_clips(
    sources: Sequence[str], n_frames: int, stride: int, rng: np.random.Generator | None = None
) -> np.ndarray:
    """MotionBERT's ``split_clips`` on a flat per-frame list of sequence names -> ``(K, n)``.

    Consecutive frames with the same source form one sequence. Full windows at the given
    stride; the tail after them is dropped, and a sequence shorter than ``n_frames`` is
    resampled to one clip - except the very last sequence of the list, which MotionBERT
    leaves out when it is shorter (reproduced as-is for protocol parity).
    """
    names = list(sources)
    clips: list[np.ndarray] = []
    start = 0
    bounds = [i for i in range(1, len(names)) if names[i] != names[i - 1]] + [len(names)]
    for end in bounds:
        length = end - start
        last = end == len(names)
        if length >= n_frames:
            k = clip_indices(length, n_frames, stride, tail="drop") + start
            clips.extend(k)
        elif not last:
            clips.append(resample_indices(length, n_frames, rng) + start)
        start = end
    if not clips:
        return np.zeros((0, n_frames), dtype=np.int64)
    return np.stack(clips).astype(np.int64)

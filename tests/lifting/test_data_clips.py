"""Clip slicing with stride, tails, and MotionBERT's split_clips semantics."""

import numpy as np
import pytest

from lifting.data import clip_indices, motionbert_split_clips, resample_indices


def test_stride_and_tails():
    full = clip_indices(10, 4, 3, tail="drop")
    np.testing.assert_array_equal(full, [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    np.testing.assert_array_equal(clip_indices(10, 4, 4, "drop"), [[0, 1, 2, 3], [4, 5, 6, 7]])
    np.testing.assert_array_equal(clip_indices(10, 4, 4, "last")[-1], [6, 7, 8, 9])
    # tail frames 8, 9 resampled to 4 indices: floor(linspace(0, 2, 4, endpoint=False)) + 8
    np.testing.assert_array_equal(clip_indices(10, 4, 4, "resample")[-1], [8, 8, 9, 9])
    np.testing.assert_array_equal(clip_indices(3, 4, 4, "resample"), [[0, 0, 1, 2]])
    assert clip_indices(3, 4, 4, "drop").shape == (0, 4)
    assert clip_indices(0, 4).shape == (0, 4)
    with pytest.raises(ValueError, match="tail"):
        clip_indices(10, 4, 4, "pad")
    with pytest.raises(ValueError, match="stride"):
        clip_indices(10, 4, 0)


def test_resample_random_stays_in_range_and_sorted():
    rng = np.random.default_rng(0)
    for length, n in [(3, 10), (50, 7), (1, 4)]:
        r = resample_indices(length, n, rng)
        assert r.shape == (n,) and r.min() >= 0 and r.max() <= length - 1
        assert np.all(np.diff(r) >= 0)
    np.testing.assert_array_equal(resample_indices(6, 3), [0, 2, 4])


def test_motionbert_split_clips():
    # video a: 10 frames, b: 3 frames (shorter -> resampled), c: 2 frames (last, dropped)
    src = ["a"] * 10 + ["b"] * 3 + ["c"] * 2
    clips = motionbert_split_clips(src, 4, 4)
    np.testing.assert_array_equal(clips, [[0, 1, 2, 3], [4, 5, 6, 7], [10, 10, 11, 12]])
    clips = motionbert_split_clips(["a"] * 6, 4, 1)
    np.testing.assert_array_equal(clips[:, 0], [0, 1, 2])

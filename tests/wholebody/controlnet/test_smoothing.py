"""Temporal smoothing with missing points."""

import numpy as np
import pytest
from scipy.signal import savgol_filter

from wholebody.controlnet.smoothing import (
    one_euro_smooth,
    savgol_smooth,
    smooth_keypoints,
    track_people,
)


def test_savgol_equals_scipy_away_from_the_ends():
    x = np.random.default_rng(0).normal(size=(40, 5, 2))
    ours = savgol_smooth(x, np.ones((40, 5), bool), window=7, order=2)
    ref = savgol_filter(x, 7, 2, axis=0)
    np.testing.assert_allclose(ours[3:-3], ref[3:-3], atol=1e-12)


def test_savgol_with_gaps_keeps_quadratics_and_missing_points():
    t = np.arange(30, dtype=float)
    x = np.stack([0.1 * t**2 - t + 3, 2 * t], -1)[:, None]  # (T, 1, 2)
    valid = np.ones((30, 1), bool)
    valid[[4, 5, 6, 17, 20, 21], 0] = False
    x_missing = np.where(valid[..., None], x, np.nan)
    out = savgol_smooth(x_missing, valid, window=7, order=2)
    np.testing.assert_allclose(out[valid], x[valid], atol=1e-9)  # quadratics pass unchanged
    assert np.all(np.isnan(out[~valid]))  # missing stays missing


def test_savgol_reduces_jitter_and_isolated_points_fall_back():
    rng = np.random.default_rng(1)
    clean = np.linspace(0, 100, 60)[:, None, None] * np.ones((1, 1, 2))
    noisy = clean + rng.normal(0, 2.0, clean.shape)
    out = savgol_smooth(noisy, np.ones((60, 1), bool))
    assert np.std(out - clean) < 0.7 * np.std(noisy - clean)
    lonely = np.zeros((9, 1), bool)
    lonely[4] = True  # one valid frame: the fit degrades to the point itself
    np.testing.assert_allclose(savgol_smooth(noisy[:9], lonely)[4], noisy[4])


def test_one_euro_smooths_and_holds_through_gaps():
    rng = np.random.default_rng(2)
    noisy = 50 + rng.normal(0, 2.0, (100, 1, 2))
    valid = np.ones((100, 1), bool)
    valid[40:50] = False
    out = one_euro_smooth(noisy, valid, fps=30, min_cutoff=0.5, beta=0.0)
    assert np.std(out[60:] - 50) < 0.5 * np.std(noisy[60:] - 50)
    np.testing.assert_array_equal(out[40:50], noisy[40:50])


def test_smooth_keypoints_checks():
    kp = np.zeros((5, 1, 133, 2))
    sc = np.ones((5, 1, 133))
    assert smooth_keypoints(kp, sc, "none") is not None
    with pytest.raises(ValueError, match="smoothing"):
        smooth_keypoints(kp, sc, "kalman")
    with pytest.raises(ValueError, match="expected keypoints"):
        smooth_keypoints(kp[0], sc[0])
    with pytest.raises(ValueError, match="window"):
        savgol_smooth(kp[:, 0], sc[:, 0] > 0, window=4)


def test_track_people_follows_identities_through_shuffles_and_gaps():
    rng = np.random.default_rng(5)
    T, N = 20, 3
    start = rng.uniform(0, 500, (N, 1, 2))
    walk = np.cumsum(rng.normal(0, 2, (T, N, 133, 2)), axis=0)
    kp = start[None] + rng.normal(0, 20, (1, N, 133, 2)) + walk
    sc = np.ones((T, N, 133))
    sc[8:11, 1] = 0.0  # person 1 leaves for three frames
    perm = np.stack([rng.permutation(N) for _ in range(T)])
    perm[0] = np.arange(N)
    shuffled = np.take_along_axis(kp, perm[..., None, None], axis=1)
    shuffled_sc = np.take_along_axis(sc, perm[..., None], axis=1)
    order = track_people(shuffled, shuffled_sc)
    back = np.take_along_axis(shuffled, order[..., None, None], axis=1)
    visible = sc[..., 0] > 0
    np.testing.assert_array_equal(back[visible], kp[visible])

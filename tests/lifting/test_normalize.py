"""Screen and bounding-square normalisation: hand values, inverses, bad input."""

import numpy as np
import pytest

from lifting.normalize import (
    bbox_denormalize,
    bbox_normalize,
    bbox_params,
    normalize_input,
    screen_denormalize,
    screen_normalize,
)


def test_screen_hand_values_and_inverse():
    xy = np.array([[0.0, 0.0], [1000.0, 1002.0], [500.0, 501.0]])
    out = screen_normalize(xy, 1000, 1002)
    np.testing.assert_allclose(out, [[-1, -1.002], [1, 1.002], [0, 0]], atol=1e-12)
    np.testing.assert_allclose(screen_denormalize(out, 1000, 1002), xy, atol=1e-9)


def test_bbox_square_over_clip():
    xy = np.array([[[10.0, 20.0], [30.0, 60.0]], [[20.0, 40.0], [np.nan, np.nan]]])
    box = bbox_params(xy)
    assert box.scale == 40.0 and box.center == (20.0, 40.0)
    out = bbox_normalize(xy[:1], box)
    np.testing.assert_allclose(out, [[[-0.5, -1.0], [0.5, 1.0]]])
    np.testing.assert_allclose(bbox_denormalize(out, box), xy[:1])
    # low scores are ignored when choosing the box
    scores = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert bbox_params(xy, scores).center == (15.0, 30.0)


def test_normalize_input_zero_confidence_and_nan():
    kp = np.array([[[100.0, 200.0], [np.nan, 5.0]]])
    sc = np.array([[0.9, 0.8]])
    out = normalize_input(kp, sc, 1000, 1000)
    assert out.shape == (1, 2, 3) and np.all(np.isfinite(out))
    np.testing.assert_allclose(out[0, 1], [0, 0, 0])
    np.testing.assert_allclose(out[0, 0, 2], 0.9, rtol=1e-6)
    out = normalize_input(kp, sc, 1000, 1000, input_norm="bbox")
    np.testing.assert_allclose(out[0, 0], [0, 0, 0.9], atol=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="positive"):
        screen_normalize(np.zeros((2, 2)), 0, 10)
    with pytest.raises(ValueError, match=r"\(\.\.\., J, 2\)"):
        screen_normalize(np.zeros((2, 3)), 10, 10)
    with pytest.raises(ValueError, match="at least one valid"):
        bbox_params(np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="input_norm"):
        normalize_input(np.zeros((1, 2, 2)), None, 10, 10, input_norm="pixel")
    with pytest.raises(ValueError, match="scores"):
        normalize_input(np.zeros((1, 2, 2)), np.ones((1, 3)), 10, 10)

"""Pixel parity with controlnet_aux's DWPose drawing (its own code, run on our keypoints)."""

import numpy as np
import pytest

from tests.wholebody.controlnet.cn_aux_reference import (
    available,
    matplotlib_hand_colours,
    reference_map,
)
from tests.wholebody.controlnet.posegen import random_people
from wholebody.controlnet import controlnet_size, pose_map, rescale_points
from wholebody.controlnet.draw import HAND_EDGE_COLOURS

pytestmark = pytest.mark.skipif(
    not available(), reason="controlnet_aux and opencv-python-headless not installed"
)

# (image (H, W), detect_resolution, image_resolution, people per pose)
CASES = [
    ((512, 512), 512, 512, 1),
    ((480, 640), 512, 512, 2),
    ((720, 1280), 512, 768, 3),
    ((256, 384), 256, 256, 5),
    ((300, 200), 384, 320, 2),
    ((1024, 768), 768, 768, 4),
]
POSES_PER_CASE = 10  # 60 random whole-body poses in all


def _ours_and_reference(rng, size, det, img, n):
    h, w = size
    kp, sc = random_people(rng, n, h, w)
    canvas = controlnet_size(h, w, det)
    kp_det = rescale_points(kp, (h, w), canvas) if canvas != (h, w) else kp
    ref = reference_map(kp_det, sc, (h, w), det, img)
    ours = pose_map(kp, sc, (h, w), detect_resolution=det, image_resolution=img)
    return ours, ref


@pytest.mark.parametrize("size, det, img, n", CASES)
def test_pose_map_matches_controlnet_aux(size, det, img, n):
    rng = np.random.default_rng(hash((size, det, img, n)) % 2**32)
    worst, drawn = 0.0, 0
    for _ in range(POSES_PER_CASE):
        ours, ref = _ours_and_reference(rng, size, det, img, n)
        assert ours.shape == ref.shape and ours.dtype == np.uint8
        drawn += bool(ref.any())
        differing = np.any(ours != ref, axis=-1).mean()
        worst = max(worst, differing)
    assert drawn >= POSES_PER_CASE - 2, "the generator drew too few non-empty maps"
    assert worst <= 0.001, f"{worst:.4%} of pixels differ"


def test_exact_size_path_is_identical():
    """detect_resolution=None draws at the image size: equals the reference at k = 1."""
    rng = np.random.default_rng(7)
    for _ in range(5):
        kp, sc = random_people(rng, 3, 320, 448)
        ref = reference_map(kp, sc, (320, 448), 320, 320)
        np.testing.assert_array_equal(pose_map(kp, sc, (320, 448)), ref)


def test_zero_people_matches_reference():
    kp, sc = np.zeros((0, 133, 2), np.float32), np.zeros((0, 133), np.float32)
    ref = reference_map(kp, sc, (256, 256), 256, 256)
    out = pose_map(kp, sc, (256, 256))
    np.testing.assert_array_equal(out, ref)
    assert not out.any()


def test_hand_colours_equal_matplotlib():
    for ours, ref in zip(HAND_EDGE_COLOURS, matplotlib_hand_colours()):
        assert ours == tuple(float(c) for c in ref)


def test_border_points_and_threshold_ties_match_reference():
    """Points on and beyond the canvas border (the eps = 0.01 pixel test), scores at 0.3."""
    rng = np.random.default_rng(11)
    h, w = 192, 256
    edge = np.array([-3.0, -0.5, 0.0, 0.49, 0.99, 1.0, 1.5, w - 1.0, w - 0.5, w, w + 3.0])
    for _ in range(6):
        kp, sc = random_people(rng, 2, h, w)
        n = kp.shape[1]
        kp[..., 0] = np.where(rng.uniform(size=(2, n)) < 0.3, rng.choice(edge, (2, n)), kp[..., 0])
        kp[..., 1] = np.where(rng.uniform(size=(2, n)) < 0.3, rng.choice(edge, (2, n)) * h / w,
                              kp[..., 1])  # fmt: skip
        sc = np.where(rng.uniform(size=sc.shape) < 0.2, np.float32(0.3), sc)
        kp, sc = kp.astype(np.float32), sc.astype(np.float32)
        np.testing.assert_array_equal(pose_map(kp, sc, (h, w)), reference_map(kp, sc, (h, w), h, h))

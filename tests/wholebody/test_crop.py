"""Affine crops: MMPose center/scale, aspect fix, warp round trips, sampling positions."""

import numpy as np
import pytest

from wholebody.crop import (
    box_to_center_scale,
    crop_regions,
    fix_aspect_ratio,
    get_warp_matrix,
    transform_points,
    warp_affine,
    warp_from_crop,
    warp_to_crop,
)


def test_center_scale_and_aspect():
    c, s = box_to_center_scale(np.array([[10, 20, 50, 100]]), padding=1.25)
    np.testing.assert_allclose(c, [[30, 60]])
    np.testing.assert_allclose(s, [[50, 100]])
    np.testing.assert_allclose(fix_aspect_ratio(s, 0.75), [[75, 100]])  # too tall: widen
    np.testing.assert_allclose(fix_aspect_ratio(np.array([[100.0, 50.0]]), 0.75), [[100, 400 / 3]])
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        box_to_center_scale(np.zeros((2, 3)))


@pytest.mark.parametrize("rot", [0.0, 35.0, -120.0])
def test_warp_matrix_round_trip_and_centre(rot):
    c, s = np.array([[100.0, 80.0]]), np.array([[60.0, 80.0]])
    m = get_warp_matrix(c, s, (192, 256), rot)
    mi = get_warp_matrix(c, s, (192, 256), rot, inv=True)
    pts = np.random.default_rng(0).uniform(0, 200, (1, 7, 2))
    np.testing.assert_allclose(transform_points(transform_points(pts, m), mi), pts, atol=1e-9)
    np.testing.assert_allclose(transform_points(c[:, None], m)[0, 0], [96, 128], atol=1e-9)
    back = warp_from_crop(transform_points(pts, m), c, s, (192, 256), rot)
    np.testing.assert_allclose(back, pts, atol=1e-9)


def test_rot0_back_projection_is_mmpose_formula():
    c, s = np.array([[30.0, 40.0]]), np.array([[48.0, 64.0]])
    kp = np.array([[[0.0, 0.0], [96.0, 128.0]]])
    out = warp_from_crop(kp, c, s, (192, 256))
    np.testing.assert_allclose(out, kp / [192, 256] * s[:, None] + c[:, None] - s[:, None] / 2)


def test_crop_samples_the_expected_pixel():
    img = np.zeros((60, 80, 3), np.uint8)
    img[25, 37] = [255, 128, 0]
    c, s = np.array([[40.0, 30.0]]), np.array([[40.0, 40.0]])  # 2x zoom into a 40x40 region
    m = get_warp_matrix(c, s, (80, 80))
    u, v = transform_points(np.array([[[37.0, 25.0]]]), m)[0, 0]
    crop = crop_regions(img, c, s, (80, 80))[0]
    assert crop.shape == (80, 80, 3)
    iy, ix = np.unravel_index(crop[..., 0].argmax(), crop.shape[:2])
    assert abs(ix - u) <= 0.5 + 1e-9 and abs(iy - v) <= 0.5 + 1e-9
    np.testing.assert_allclose(crop[int(round(v)), int(round(u))], [255, 128, 0], atol=1e-3)


def test_rotated_and_axis_aligned_paths_agree_at_rot0_and_border_is_zero():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (50, 60, 3)).astype(np.uint8)
    m = get_warp_matrix(np.array([[10.0, 10.0]]), np.array([[60.0, 80.0]]), (24, 32))[0]
    a = warp_affine(img, m, (24, 32))
    m2 = m.copy()
    m2[0, 1] = 1e-15  # forces the general (non-separable) path
    np.testing.assert_allclose(warp_affine(img, m2, (24, 32)), a, atol=1e-3)
    assert np.all(a[0, 0] == 0)  # the region's top-left corner lies outside the image


def test_warp_to_crop_and_bad_image():
    img = np.full((40, 30, 3), 7, np.uint8)
    crops, c, s = warp_to_crop(img, np.array([[5, 5, 25, 35]]), (96, 128))
    assert crops.shape == (1, 128, 96, 3) and s[0, 0] / s[0, 1] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="non-empty"):
        warp_affine(np.zeros((0, 5, 3)), np.eye(2, 3), (4, 4))


@pytest.mark.parametrize("rot", [0.0, 30.0])
def test_udp_warp_maps_region_edges_to_pixel_centres(rot):
    from wholebody.crop import get_udp_warp_matrix

    c, s = np.array([[100.0, 80.0]]), np.array([[60.0, 80.0]])
    m = get_udp_warp_matrix(c, s, (192, 256), rot)
    edges = np.array([[[70.0, 40.0], [130.0, 120.0]]])
    if rot == 0:
        np.testing.assert_allclose(transform_points(edges, m)[0], [[0, 0], [191, 255]], atol=1e-9)
    # centre maps to ((w - 1) / 2, (h - 1) / 2) at any rotation
    np.testing.assert_allclose(transform_points(c[:, None], m)[0, 0], [95.5, 127.5], atol=1e-9)

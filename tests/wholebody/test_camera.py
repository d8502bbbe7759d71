"""Pinhole camera: projection round trips, distortion, extrinsics, look-at."""

import numpy as np
import pytest

from wholebody.camera import Camera, look_at
from wholebody.rotations import axis_angle_to_matrix


@pytest.mark.parametrize("dist", [None, [0.1, -0.05, 0.001, -0.002, 0.01]])
def test_project_unproject_identity(dist):
    rng = np.random.default_rng(0)
    cam = Camera(1100.0, 1090.0, 512.0, 500.0, 1000, 1002, dist=dist)
    pts = np.column_stack(
        [rng.uniform(-1, 1, 200), rng.uniform(-1, 1, 200), rng.uniform(2, 8, 200)]
    )
    uv = cam.project(pts)
    np.testing.assert_allclose(cam.unproject(uv, pts[:, 2]), pts, atol=1e-9)


def test_projection_formula_and_extrinsics():
    cam = Camera(1000.0, 1000.0, 320.0, 240.0, 640, 480,
                 R=axis_angle_to_matrix([0.1, 0.2, -0.3]), t=[0.1, -0.2, 4.0])  # fmt: skip
    world = np.random.default_rng(1).normal(size=(3, 5, 3))
    cam_pts = cam.world_to_camera(world)
    np.testing.assert_allclose(cam.camera_to_world(cam_pts), world, atol=1e-12)
    uv = cam.project(cam_pts)
    np.testing.assert_allclose(uv[..., 0], 1000 * cam_pts[..., 0] / cam_pts[..., 2] + 320)
    np.testing.assert_allclose(cam.project_world(world), uv)


def test_look_at_centres_target():
    R, t = look_at(eye=[0, -1.0, -4.0], target=[0, -1.0, 0])
    cam = Camera.from_fov(60, 640, 480, R=R, t=t)
    np.testing.assert_allclose(cam.project_world([0, -1.0, 0]), [319.5, 239.5], atol=1e-9)
    above = cam.project_world([0, -2.0, 0])  # y-down world: -y is up, so it appears higher
    assert above[1] < 239.5


def test_camera_bad_input():
    cam = Camera.from_fov(60, 64, 48)
    with pytest.raises(ValueError, match=r"expected shape \(\.\.\., 3\)"):
        cam.project(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="z > 0"):
        cam.project(np.array([0.0, 0.0, -1.0]))
    with pytest.raises(ValueError, match="NaN"):
        cam.project(np.array([np.nan, 0.0, 1.0]))
    with pytest.raises(ValueError, match="rotation"):
        Camera(1, 1, 0, 0, 2, 2, R=np.diag([1.0, 1.0, -1.0]))

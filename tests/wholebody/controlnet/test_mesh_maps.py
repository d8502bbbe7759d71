"""Depth and normal maps: planes, an analytic sphere, alignment with projected keypoints."""

import numpy as np
import pytest
import trimesh

from wholebody.camera import Camera
from wholebody.controlnet import (
    depth_map,
    framing_camera,
    normal_map,
    rasterize,
    render_mesh,
)


def _plane(z_of_xy, half=3.0, n=8):
    """A grid of 2 n^2 triangles over [-half, half]^2, counter-clockwise seen from -z."""
    xs = np.linspace(-half, half, n + 1)
    gx, gy = np.meshgrid(xs, xs)
    v = np.stack([gx, gy, z_of_xy(gx, gy)], -1).reshape(-1, 3)
    i = np.arange(n)[:, None] * (n + 1) + np.arange(n)[None, :]
    a, b, c, d = i, i + 1, i + n + 1, i + n + 2
    # (a, c, b): with y down, x right, this turns counter-clockwise seen from the camera.
    f = np.concatenate([np.stack([a, c, b], -1), np.stack([b, c, d], -1)]).reshape(-1, 3)
    return v, f


CAM = Camera.from_fov(60, 64, 48)


def test_plane_facing_camera_is_128_128_255():
    v, f = _plane(lambda x, y: np.full_like(x, 2.0))
    render = render_mesh(v, f, CAM)
    assert render.mask.all()
    np.testing.assert_allclose(render.depth, 2.0, atol=1e-12)
    nm = normal_map(render)
    assert np.all(nm == np.array([128, 128, 255], np.uint8))
    # Reversed winding still shades the visible side (normal turned towards the camera).
    assert np.all(normal_map(render_mesh(v, f[:, ::-1], CAM)) == [128, 128, 255])
    assert np.all(depth_map(render) == 255)  # constant depth: all nearest


def test_tilted_plane_gives_linear_inverse_depth_ramp():
    # z = 3 + 0.5 x: 1/z is affine in pixel coordinates, so the map is a linear ramp in u.
    v, f = _plane(lambda x, y: 3.0 + 0.5 * x, half=4.0)
    render = render_mesh(v, f, CAM, smooth=False)
    assert render.mask.all()
    uv = np.stack(np.meshgrid(np.arange(64), np.arange(48)), -1).astype(float)
    ray = CAM.unproject(uv, 1.0)
    z_true = 3.0 / (1.0 - 0.5 * ray[..., 0])  # ray t: t z = 3 + 0.5 t x
    np.testing.assert_allclose(render.depth, z_true, rtol=1e-9)
    dm = depth_map(render)[..., 0].astype(float)
    assert dm.max() == 255 and dm.min() == 0
    assert np.all(dm == dm[:1])  # constant down each column
    row = dm[0]
    assert np.all(np.diff(row) <= 0)  # depth grows with x: farther to the right
    ideal = 255.0 * (63 - np.arange(64)) / 63  # inverse depth is exactly linear in u here
    assert np.abs(row - ideal).max() <= 0.5 + 1e-6  # linear up to rounding
    # Tilted normal: the outward normal is -(-0.5, 0, 1)/|.|, R grows (faces image left).
    n_true = np.array([0.5, 0.0, -1.0]) / np.linalg.norm([0.5, 0.0, -1.0])
    np.testing.assert_allclose(render.normals[render.mask], np.broadcast_to(n_true, (64 * 48, 3)),
                               atol=1e-9)  # fmt: skip
    assert np.all(normal_map(render)[0, 0] == np.floor(127.5 * (1 - n_true) + 0.5))


def test_sphere_matches_analytic_depth_and_normals():
    cam = Camera.from_fov(40, 128, 128)
    m = trimesh.creation.icosphere(4)
    centre, r = np.array([0.1, -0.05, 2.5]), 0.4
    render = render_mesh(m.vertices * r + centre, m.faces, cam)
    uv = np.stack(np.meshgrid(np.arange(128), np.arange(128)), -1).astype(float)
    d = cam.unproject(uv, 1.0)
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    b = d @ centre
    disc = b**2 - (centre @ centre - r * r)
    t = b - np.sqrt(np.maximum(disc, 0))
    hit = disc > 0
    assert (render.mask ^ hit).sum() <= 0.01 * hit.sum()  # silhouette = tessellation only
    inner = (disc > 0.05 * r * r) & render.mask
    z_true = (t[..., None] * d)[..., 2]
    assert np.abs(render.depth[inner] - z_true[inner]).max() < 2e-3  # metres
    n_true = (t[..., None] * d - centre) / r
    cos = np.sum(render.normals[inner] * n_true[inner], -1)
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 2.0


def test_mesh_lines_up_with_projected_keypoints():
    """Small spheres at 3D keypoints: silhouette centroids vs projected centres."""
    rng = np.random.default_rng(0)
    joints = rng.uniform([-0.4, -0.8, -0.2], [0.4, 0.8, 0.2], (12, 3)) + [0, 0, 3.0]
    ball = trimesh.creation.icosphere(3)
    verts = np.concatenate([ball.vertices * 0.03 + j for j in joints])
    faces = np.concatenate([ball.faces + k * len(ball.vertices) for k in range(len(joints))])
    cam = framing_camera(verts, resolution=512)
    assert cam.width % 8 == 0 and cam.height % 8 == 0
    frags = rasterize(cam.world_to_camera(verts), faces, cam)
    owner = np.where(frags.mask, frags.face // len(ball.faces), -1)
    projected = cam.project_world(joints)
    errors = []
    for k in range(len(joints)):
        ys, xs = np.nonzero(owner == k)
        if xs.size > 30:  # unoccluded enough to measure
            errors.append(np.hypot(xs.mean() - projected[k, 0], ys.mean() - projected[k, 1]))
    assert len(errors) >= 8
    print("alignment pixel errors", np.round(errors, 3))
    assert max(errors) < 0.5, f"pixel errors {errors}"  # measured 0.03-0.17 px
    assert np.all((projected >= 0) & (projected <= [cam.width - 1, cam.height - 1]))


def test_bad_mesh_input():
    v, f = _plane(lambda x, y: np.full_like(x, 2.0))
    with pytest.raises(ValueError, match="multiples of 8"):
        render_mesh(v, f, Camera.from_fov(60, 63, 48))
    bad = v.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        render_mesh(bad, f, CAM)
    with pytest.raises(ValueError, match="indices"):
        render_mesh(v, f + len(v), CAM)
    with pytest.raises(ValueError, match=r"\(V, 3\)"):
        render_mesh(v[:, :2], f, CAM)
    with pytest.raises(ValueError, match="near and far"):
        depth_map(render_mesh(v, f, CAM), near=1.0)
    # Behind the camera / empty mesh: defined, all background.
    behind = render_mesh(v * [1, 1, -1], f, CAM)
    assert not behind.mask.any() and not depth_map(behind).any() and not normal_map(behind).any()
    empty = render_mesh(np.zeros((0, 3)), np.zeros((0, 3), int), CAM)
    assert not empty.mask.any()

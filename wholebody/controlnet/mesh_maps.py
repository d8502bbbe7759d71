"""Depth and normal conditioning maps rendered from a mesh with a `wholebody.camera.Camera`.

Depth (MiDaS / ControlNet depth convention): normalised inverse depth, near = white. Per image
min-max over the foreground (``near``/``far`` unset) or a fixed metric range (steady across a
video). Background is 0 (black); the farthest foreground point is 0 too under min-max, as in
MiDaS maps. Three identical channels, uint8.

Normals (ControlNet 1.1 normalbae / ScanNet protocol): ``RGB = 127.5 * (1 - n)`` with ``n`` the
unit outward normal in OpenCV camera axes (x right, y down, z forward), so a surface facing
the camera is (128, 128, 255), R grows facing image-left, G facing up. Surfaces seen from
behind (open meshes) are shaded with the normal turned towards the camera. Background
(0, 0, 0) by default; pass ``background=(128, 128, 255)`` for a flat "facing" background.
Map sizes must be multiples of 8 (diffusers' requirement).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wholebody.camera import Camera
from wholebody.controlnet.raster import Fragments, check_mesh, rasterize

SIZE_MULTIPLE = 8


@dataclass(frozen=True, eq=False)
class MeshRender:
    """Per-pixel depth (metres, inf on background) and unit normals ``(H, W, 3)`` in camera
    axes (zero on background)."""

    depth: np.ndarray
    normals: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        return np.isfinite(self.depth)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (outward for counter-clockwise faces)."""
    v, f = check_mesh(vertices, faces)
    face_n = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])  # |n| = 2 area
    corners = f.reshape(-1)  # each face normal goes to its three vertices
    weights = np.repeat(face_n, 3, axis=0)
    n = np.stack([np.bincount(corners, weights[:, c], minlength=len(v)) for c in range(3)], -1)
    n = n.astype(np.float64)  # bincount of nothing is int
    length = np.linalg.norm(n, axis=1, keepdims=True)
    return np.divide(n, length, out=np.zeros_like(n), where=length > 0)


def _check_size(camera: Camera, multiple: int) -> None:
    if camera.width % multiple or camera.height % multiple:
        raise ValueError(
            f"camera size {camera.height}x{camera.width}: expected multiples of {multiple} "
            "(diffusers needs multiples of 8; see wholebody.controlnet.round_size)"
        )


def render_mesh(
    vertices, faces, camera: Camera, smooth: bool = True, multiple: int = SIZE_MULTIPLE
) -> MeshRender:
    """Rasterize ``(V, 3)`` vertices (metres, in the frame ``camera``'s extrinsics map from:
    identity extrinsics = the OpenCV camera frame itself, as fitted meshes are) and ``(F, 3)``
    faces; normals interpolated from vertex normals (``smooth``) or per face."""
    _check_size(camera, multiple)
    v, f = check_mesh(vertices, faces)
    v = camera.world_to_camera(v)
    frags: Fragments = rasterize(v, f, camera)
    mask = frags.mask
    normals = np.zeros(frags.depth.shape + (3,))
    if mask.any():
        fid = frags.face[mask]
        if smooth:
            vn = vertex_normals(v, f)
            n = np.einsum("pk,pkc->pc", frags.bary[mask], vn[f[fid]])
        else:
            tri = v[f[fid]]
            n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        # The viewing ray of a pixel points from the camera to the surface point.
        ys, xs = np.nonzero(mask)
        ray = camera.unproject(np.stack([xs, ys], -1).astype(np.float64), 1.0)
        n = np.where((np.sum(n * ray, axis=-1) > 0)[:, None], -n, n)
        length = np.linalg.norm(n, axis=-1, keepdims=True)
        normals[mask] = np.divide(n, length, out=np.zeros_like(n), where=length > 0)
    return MeshRender(frags.depth, normals)


def depth_map(
    render: MeshRender, near: float | None = None, far: float | None = None
) -> np.ndarray:
    """``(H, W, 3)`` uint8 normalised inverse depth, 255 = nearest, background 0.

    ``near``/``far`` (metres) fix the range (1/z mapped linearly from 1/far -> 0 to
    1/near -> 255, clipped); unset, the foreground's own min and max are used.
    """
    mask = render.mask
    out = np.zeros(render.depth.shape, dtype=np.float64)
    if mask.any():
        inv = 1.0 / render.depth[mask]
        if (near is None) != (far is None):
            raise ValueError("depth_map: give both near and far, or neither")
        if near is None:
            lo, hi = inv.min(), inv.max()
        else:
            if not 0 < near < far:
                raise ValueError(f"depth_map: expected 0 < near < far, got {near}, {far}")
            lo, hi = 1.0 / far, 1.0 / near
        span = hi - lo
        # A span at rounding level (a plane facing the camera) is a constant depth: all near.
        out[mask] = np.clip((inv - lo) / span, 0.0, 1.0) if span > 1e-9 * hi else 1.0
    gray = np.floor(out * 255.0 + 0.5).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=-1)


def normal_map(render: MeshRender, background=(0, 0, 0)) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB = round(127.5 * (1 - n)) on the mesh, ``background`` elsewhere."""
    bg = np.asarray(background)
    if bg.shape != (3,) or np.any(bg < 0) or np.any(bg > 255):
        raise ValueError(f"background: expected 3 values in [0, 255], got {background!r}")
    rgb = np.floor(127.5 * (1.0 - render.normals) + 0.5)
    out = np.where(render.mask[..., None], rgb, bg[None, None, :])
    return np.clip(out, 0, 255).astype(np.uint8)


def framing_camera(
    vertices, resolution: int = 512, fov_deg: float = 40.0, margin: float = 0.1
) -> Camera:
    """A camera that frames every vertex of ``(..., V, 3)`` (one frame or a whole sequence, so
    the framing is steady), looking along +z like the camera the mesh is expressed in.

    The long image side is ``resolution``; the short side follows the mesh's aspect; both are
    multiples of 8. Only the camera position changes (R = I).
    """
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise ValueError("framing_camera: expected finite vertices, got none or NaN")
    if resolution < SIZE_MULTIPLE:
        raise ValueError(f"resolution: expected >= {SIZE_MULTIPLE}, got {resolution}")
    lo, hi = v.min(axis=0), v.max(axis=0)
    centre, half = (lo + hi) / 2, np.maximum((hi - lo) / 2 * (1 + margin), 1e-3)
    aspect = half[0] / half[1]
    long_side = int(resolution) // SIZE_MULTIPLE * SIZE_MULTIPLE
    short = max(SIZE_MULTIPLE, int(round(long_side * min(aspect, 1 / aspect) / 8)) * 8)
    width, height = (long_side, short) if aspect >= 1 else (short, long_side)
    f = 0.5 * long_side / np.tan(0.5 * np.radians(fov_deg))
    # Distance so that the front face of the box fits: half / (z - half_z) <= (size / 2) / f.
    dist = max(half[0] * f / (width / 2), half[1] * f / (height / 2)) + half[2]
    t = np.array([-centre[0], -centre[1], dist - centre[2]])
    return Camera(f, f, (width - 1) / 2, (height - 1) / 2, width, height, t=t)


def resize_camera(camera: Camera, height: int, width: int) -> Camera:
    """The same view at another image size (pixel centres map to pixel centres)."""
    sx, sy = width / camera.width, height / camera.height
    return Camera(camera.fx * sx, camera.fy * sy, (camera.cx + 0.5) * sx - 0.5,
                  (camera.cy + 0.5) * sy - 0.5, int(width), int(height), camera.R, camera.t,
                  camera.dist)  # fmt: skip


def load_camera(path) -> Camera:
    """A camera from JSON or npz with ``fx, fy, cx, cy, width, height`` and optional ``R``
    (3x3, world -> camera), ``t`` (3,), ``dist`` (4 or 5)."""
    import json
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"camera file not found: {path}")
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from err
    else:
        with np.load(path) as npz:
            data = {k: npz[k] for k in npz.files}
    missing = [k for k in ("fx", "fy", "cx", "cy", "width", "height") if k not in data]
    if missing:
        raise ValueError(f"{path}: missing camera fields {missing}")
    kw = {k: np.asarray(data[k]) for k in ("R", "t", "dist") if data.get(k) is not None}
    return Camera(float(data["fx"]), float(data["fy"]), float(data["cx"]), float(data["cy"]),
                  int(data["width"]), int(data["height"]), **kw)  # fmt: skip

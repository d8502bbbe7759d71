"""Pinhole cameras with optional OpenCV distortion, in numpy.

Camera frame: OpenCV (x right, y down, z forward), metres. Pixels: x right, y down, integer
coordinates at pixel centres. Extrinsics map world to camera: ``X_cam = R @ X_world + t``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# OpenGL / Blender camera (x right, y up, z backwards) <-> OpenCV: flip y and z.
OPENGL_TO_OPENCV = np.diag([1.0, -1.0, -1.0])


def _points(x, dim: int, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim < 1 or arr.shape[-1] != dim:
        raise ValueError(f"{name}: expected shape (..., {dim}), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite values, got NaN/inf")
    return arr


def distort(xn: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """OpenCV radial-tangential model on normalised ``(..., 2)`` coordinates.

    ``dist = (k1, k2, p1, p2, k3)``:
    x' = x (1 + k1 r^2 + k2 r^4 + k3 r^6) + 2 p1 x y + p2 (r^2 + 2 x^2), y' likewise.
    """
    k1, k2, p1, p2, k3 = dist
    x, y = xn[..., 0], xn[..., 1]
    r2 = x * x + y * y
    radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return np.stack([xd, yd], axis=-1)


def undistort(xd: np.ndarray, dist: np.ndarray, iterations: int = 20) -> np.ndarray:
    """Invert `distort` by fixed-point iteration (as OpenCV's undistortPoints)."""
    k1, k2, p1, p2, k3 = dist
    xn = xd.copy()
    for _ in range(iterations):
        x, y = xn[..., 0], xn[..., 1]
        r2 = x * x + y * y
        radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
        dx = 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
        dy = p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
        xn = np.stack([(xd[..., 0] - dx) / radial, (xd[..., 1] - dy) / radial], axis=-1)
    return xn


@dataclass(frozen=True)
class Camera:
    """Intrinsics (pixels), optional distortion, extrinsics (world -> camera) and image size.

    Attributes:
        fx, fy, cx, cy: focal lengths and principal point in pixels.
        width, height: image size in pixels.
        R: ``(3, 3)`` world-to-camera rotation.
        t: ``(3,)`` world-to-camera translation, metres.
        dist: ``(5,)`` OpenCV ``(k1, k2, p1, p2, k3)`` or ``None``.
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    R: np.ndarray = field(default_factory=lambda: np.eye(3))
    t: np.ndarray = field(default_factory=lambda: np.zeros(3))
    dist: np.ndarray | None = None

    def __post_init__(self) -> None:
        R = np.asarray(self.R, dtype=np.float64)
        t = np.asarray(self.t, dtype=np.float64).reshape(-1)
        if R.shape != (3, 3):
            raise ValueError(f"Camera.R: expected shape (3, 3), got {R.shape}")
        if not np.allclose(R @ R.T, np.eye(3), atol=1e-6) or np.linalg.det(R) < 0:
            raise ValueError("Camera.R: expected a proper rotation matrix")
        if t.shape != (3,):
            raise ValueError(f"Camera.t: expected shape (3,), got {t.shape}")
        if self.fx <= 0 or self.fy <= 0:
            raise ValueError(f"Camera: expected positive focal lengths, got {self.fx}, {self.fy}")
        object.__setattr__(self, "R", R)
        object.__setattr__(self, "t", t)
        if self.dist is not None:
            dist = np.zeros(5)
            given = np.asarray(self.dist, dtype=np.float64).reshape(-1)
            if given.size not in (4, 5):
                raise ValueError(f"Camera.dist: expected 4 or 5 coefficients, got {given.size}")
            dist[: given.size] = given
            object.__setattr__(self, "dist", dist)

    @classmethod
    def from_fov(cls, fov_x_deg: float, width: int, height: int, **kw) -> Camera:
        """Square pixels, centred principal point, horizontal field of view in degrees."""
        f = 0.5 * width / np.tan(0.5 * np.radians(fov_x_deg))
        return cls(f, f, (width - 1) / 2, (height - 1) / 2, width, height, **kw)

    @property
    def K(self) -> np.ndarray:
        """``(3, 3)`` intrinsic matrix."""
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1.0]])

    def world_to_camera(self, points_world) -> np.ndarray:
        """``(..., 3)`` world -> camera frame."""
        p = _points(points_world, 3, "points_world")
        return p @ self.R.T + self.t

    def camera_to_world(self, points_cam) -> np.ndarray:
        """``(..., 3)`` camera frame -> world."""
        p = _points(points_cam, 3, "points_cam")
        return (p - self.t) @ self.R

    def project(self, points_cam) -> np.ndarray:
        """``(..., 3)`` camera-frame points (z > 0) -> ``(..., 2)`` pixels.

        u = fx * x'/z + cx, v = fy * y'/z + cy, with x', y' distorted when ``dist`` is set.
        """
        p = _points(points_cam, 3, "points_cam")
        if np.any(p[..., 2] <= 0):
            raise ValueError("project: expected points in front of the camera (z > 0)")
        xn = p[..., :2] / p[..., 2:3]
        if self.dist is not None:
            xn = distort(xn, self.dist)
        return np.stack([self.fx * xn[..., 0] + self.cx, self.fy * xn[..., 1] + self.cy], -1)

    def project_world(self, points_world) -> np.ndarray:
        return self.project(self.world_to_camera(points_world))

    def unproject(self, pixels, depth) -> np.ndarray:
        """``(..., 2)`` pixels + ``(...)`` depths (camera z, metres) -> ``(..., 3)`` points."""
        uv = _points(pixels, 2, "pixels")
        z = np.asarray(depth, dtype=np.float64)
        if z.shape != uv.shape[:-1]:
            z = np.broadcast_to(z, uv.shape[:-1])
        xn = np.stack([(uv[..., 0] - self.cx) / self.fx, (uv[..., 1] - self.cy) / self.fy], -1)
        if self.dist is not None:
            xn = undistort(xn, self.dist)
        return np.concatenate([xn * z[..., None], z[..., None]], axis=-1)


def look_at(eye, target, up=(0.0, -1.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """World-to-camera ``(R, t)`` of an OpenCV camera at ``eye`` looking at ``target``.

    ``up`` is the world direction that should appear up in the image (default -y, for worlds
    stored in OpenCV-like y-down axes; pass ``(0, 0, 1)`` for a z-up world).
    """
    eye, target, up = (np.asarray(v, dtype=np.float64) for v in (eye, target, up))
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, up)  # camera x (right) = down x forward, with down = -up
    if np.linalg.norm(x) < 1e-9:
        raise ValueError("look_at: up is parallel to the viewing direction")
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    R = np.stack([x, y, z])  # rows = camera axes in world coordinates
    return R, -R @ eye

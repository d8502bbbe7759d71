"""Virtual-camera training data from world joint sequences (e.g. CMU mocap) (numpy).

World joint sequences ``(T, J, 3)`` in metres are seen by random pinhole cameras placed on a
ring around the subject, looking at its mean position; 2D keypoints are their projections
(plus optional Gaussian pixel noise), 3D targets their camera-frame coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lifting.data.sequence import PoseSequence
from wholebody.camera import Camera, look_at


@dataclass(frozen=True)
class VirtualCameraConfig:
    """Ranges of the random cameras.

    Attributes:
        distance: (min, max) horizontal distance from the subject's mean position, metres.
        height: (min, max) camera height relative to the subject's mean position, metres.
        fov_x_deg: (min, max) horizontal field of view, degrees.
        width, height_px: image size in pixels.
        noise_px: std of Gaussian noise added to the 2D keypoints, pixels.
    """

    distance: tuple[float, float] = (3.0, 6.0)
    height: tuple[float, float] = (-0.3, 1.0)
    fov_x_deg: tuple[float, float] = (40.0, 65.0)
    width: int = 1000
    height_px: int = 1000
    noise_px: float = 0.0


def random_camera(
    rng: np.random.Generator, target, up, config: VirtualCameraConfig = VirtualCameraConfig()
) -> Camera:
    """One random camera looking at ``target`` (3,), ``up`` = world up direction (3,)."""
    target = np.asarray(target, dtype=np.float64)
    up = np.asarray(up, dtype=np.float64)
    up = up / np.linalg.norm(up)
    # Horizontal basis orthogonal to up.
    helper = np.array([1.0, 0.0, 0.0]) if abs(up[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e1 = np.cross(up, helper)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(up, e1)
    azimuth = rng.uniform(0, 2 * np.pi)
    dist = rng.uniform(*config.distance)
    eye = target + dist * (np.cos(azimuth) * e1 + np.sin(azimuth) * e2)
    eye = eye + rng.uniform(*config.height) * up
    R, t = look_at(eye, target, up=up)
    fov = rng.uniform(*config.fov_x_deg)
    return Camera.from_fov(fov, config.width, config.height_px, R=R, t=t)


def virtual_camera_sequences(
    joints_world: Sequence[np.ndarray],
    num_cameras: int,
    rng: np.random.Generator,
    up=(0.0, 1.0, 0.0),
    config: VirtualCameraConfig = VirtualCameraConfig(),
    names: Sequence[str] | None = None,
    action: str = "",
) -> list[PoseSequence]:
    """Project each world sequence ``(T, J, 3)`` through ``num_cameras`` random cameras.

    Raises:
        ValueError: bad shapes, NaN, or a joint ending up behind a camera (move the cameras
            further away via ``config.distance``).
    """
    out = []
    for k, world in enumerate(joints_world):
        world = np.asarray(world, dtype=np.float64)
        if world.ndim != 3 or world.shape[-1] != 3:
            raise ValueError(f"joints_world[{k}]: expected shape (T, J, 3), got {world.shape}")
        if not np.all(np.isfinite(world)):
            raise ValueError(f"joints_world[{k}]: expected finite values, got NaN/inf")
        target = world.reshape(-1, 3).mean(axis=0)
        base = names[k] if names is not None else f"seq{k}"
        for c in range(num_cameras):
            cam = random_camera(rng, target, up, config)
            kp3 = cam.world_to_camera(world)
            kp2 = cam.project(kp3)
            if config.noise_px > 0:
                kp2 = kp2 + rng.normal(0.0, config.noise_px, kp2.shape)
            out.append(
                PoseSequence(
                    name=f"{base}/cam{c}",
                    keypoints2d=kp2,
                    scores=np.ones(kp2.shape[:2], np.float32),
                    keypoints3d=kp3,
                    width=config.width,
                    height=config.height_px,
                    action=action or base,
                    camera=cam,
                )
            )
    return out

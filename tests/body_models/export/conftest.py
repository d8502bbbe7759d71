"""Shared fixtures: random SMPL-X motions, the synthetic rest skeleton, CMU BVH paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from body_models import load_model_file, random_model_file
from body_models.export.motion import Motion
from body_models.export.smplx_motion import axis_angle_to_matrix
from body_models.synthetic import rest_skeleton
from wholebody.keypoints import SMPLX

CMU_DIR = Path("/usr/share/assimp/models/BVH")


@pytest.fixture(scope="session")
def model(tmp_path_factory):
    """A random SMPL-X-layout model (10,475 vertices) from body_models.synthetic."""
    return load_model_file(random_model_file(tmp_path_factory.mktemp("model") / "m.npz"))


@pytest.fixture(scope="session")
def rest_joints() -> np.ndarray:
    return rest_skeleton(np.random.default_rng(0))


def random_params(T: int, seed: int = 0, scale: float = 0.4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    go = np.tile([np.pi, 0.0, 0.0], (T, 1)) + rng.normal(scale=0.2, size=(T, 3))
    return {
        "betas": np.zeros(10),
        "global_orient": go,
        "transl": rng.normal(scale=0.3, size=(T, 3)) + [0.0, 0.0, 3.0],
        "body_pose": rng.normal(scale=scale, size=(T, 63)),
        "jaw_pose": rng.normal(scale=0.1, size=(T, 3)),
        "leye_pose": rng.normal(scale=0.1, size=(T, 3)),
        "reye_pose": rng.normal(scale=0.1, size=(T, 3)),
        "left_hand_pose": rng.normal(scale=scale, size=(T, 45)),
        "right_hand_pose": rng.normal(scale=scale, size=(T, 45)),
        "expression": np.zeros((T, 10)),
    }


@pytest.fixture
def random_motion(rest_joints) -> Motion:
    rng = np.random.default_rng(1)
    T = 12
    parents = np.asarray(SMPLX.parents)
    offsets = rest_joints - np.where(parents[:, None] >= 0, rest_joints[np.maximum(parents, 0)], 0)
    rot = axis_angle_to_matrix(rng.normal(scale=0.8, size=(T, 55, 3)))
    return Motion(
        names=SMPLX.names,
        parents=SMPLX.parents,
        offsets=offsets,
        rotations=rot,
        positions={0: rng.normal(size=(T, 3))},
        frame_time=1 / 30,
    )


def cmu_path(name: str = "01_01.bvh") -> Path:
    path = CMU_DIR / name
    if not path.is_file():
        pytest.fail(
            f"{path} missing: install the Debian package assimp-testmodels "
            "(apt-get install assimp-testmodels)"
        )
    return path

"""Shared fixtures: one random SMPL-X-layout model file per test session."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def random_model_dir(tmp_path_factory):
    from body_models.synthetic import random_model_file

    folder = tmp_path_factory.mktemp("smplx_random")
    random_model_file(folder, seed=3)  # folder/smplx/SMPLX_NEUTRAL.npz
    return folder


@pytest.fixture(scope="session")
def random_model(random_model_dir):
    from body_models.model_file import load_model_file

    return load_model_file(random_model_dir)


def synthetic_params(model, T: int, seed: int = 0, scale: float = 0.15) -> dict:
    """Smooth random SMPL-X parameters in the OpenCV camera frame (upright person 3 m ahead);
    knees/elbows bend the anatomical way."""
    from wholebody.keypoints import SMPLX

    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, T)[:, None]

    def smooth(n, s):
        a, b = rng.normal(size=(1, n)) * s, rng.normal(size=(1, n)) * s
        return a + (b - a) * t

    body = smooth(63, scale).reshape(T, 21, 3)
    for name, axis, sign in (("left_knee", 0, 1), ("right_knee", 0, 1), ("left_elbow", 1, -1),
                             ("right_elbow", 1, 1)):  # fmt: skip
        body[:, SMPLX.index(name) - 1, axis] = sign * np.abs(body[:, SMPLX.index(name) - 1, axis])
    return {
        "betas": rng.normal(size=model.num_betas) * 0.8,
        "expression": smooth(model.num_expression, 0.8),
        "global_orient": np.array([np.pi, 0.0, 0.0]) + smooth(3, 0.2),
        "transl": np.array([0.0, 0.3, 3.0]) + smooth(3, 0.2),
        "body_pose": body.reshape(T, 63),
        "jaw_pose": smooth(3, 0.1) * np.array([1.0, 0.0, 0.0]),
        "left_hand_pose": smooth(45, scale),
        "right_hand_pose": smooth(45, scale),
    }

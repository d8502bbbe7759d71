"""Sequence fitting: recovery of known parameters, robustness, equivariance, bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from body_models.fitting import fit_sequence, get_config
from body_models.forward import body_forward
from tests.body_models.conftest import synthetic_params
from wholebody.keypoints import COCO_WHOLEBODY
from wholebody.rotations import axis_angle_to_matrix

T = 12  # one compiled chunk size (16) shared by every test here: only the first compiles


@pytest.fixture(scope="module")
def sequence(random_model):
    params = synthetic_params(random_model, T, seed=11)
    return params, body_forward(random_model, params)


def _error_mm(a, b):
    return float(np.linalg.norm(a - b, axis=-1).mean() * 1000)


def test_recovers_clean_sequence(random_model, sequence):
    params, truth = sequence
    res = fit_sequence(random_model, truth.keypoints, np.ones((T, 133)))
    assert _error_mm(res.keypoints, truth.keypoints) <= 5.0
    assert res.params["body_pose"].shape == (T, 63) and res.params["betas"].shape == (10,)
    assert res.history[-1]["cost"] < res.history[0]["cost"]
    # the global orientation absorbs the ~180 degree turn of the OpenCV camera frame
    R_fit = axis_angle_to_matrix(res.params["global_orient"])
    R_true = axis_angle_to_matrix(params["global_orient"])
    angle = np.arccos(np.clip((np.trace(R_fit @ np.swapaxes(R_true, 1, 2), axis1=1, axis2=2) - 1)
                              / 2, -1, 1))  # fmt: skip
    assert np.degrees(angle).max() < 10.0


def test_nan_keypoints_and_silent_part(random_model, sequence):
    _, truth = sequence
    kp = truth.keypoints.copy()
    scores = np.ones((T, 133))
    kp[:, COCO_WHOLEBODY.index("left_knee")] = np.nan  # NaN = missing
    scores[:, COCO_WHOLEBODY.part("left_hand")] = 0.0  # a part nobody saw
    res = fit_sequence(random_model, kp, scores, "fast")
    assert all(np.all(np.isfinite(v)) for v in res.params.values())
    # the unseen hand stays at the prior (flat hand); the residual there is undefined (NaN)
    assert np.abs(res.params["left_hand_pose"]).max() < 1e-3
    assert np.isnan(res.residuals[:, COCO_WHOLEBODY.part("left_hand")]).all()
    body = COCO_WHOLEBODY.part("body")
    assert _error_mm(res.keypoints[:, body], truth.keypoints[:, body]) < 15.0


def test_no_confident_keypoint_is_defined(random_model):
    res = fit_sequence(random_model, np.zeros((T, 133, 3)), np.zeros((T, 133)), "fast")
    np.testing.assert_allclose(res.params["body_pose"], 0.0, atol=1e-4)
    assert np.isnan(res.residuals).all()


def test_bad_input(random_model):
    with pytest.raises(ValueError, match="keypoints3d"):
        fit_sequence(random_model, np.zeros((T, 17, 3)), np.ones((T, 17)))
    with pytest.raises(ValueError, match="scores"):
        fit_sequence(random_model, np.zeros((T, 133, 3)), np.ones((T, 132)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fit_sequence(random_model, np.zeros((T, 133, 3)), np.full((T, 133), 2.0))
    with pytest.raises(ValueError, match="fit config"):
        fit_sequence(random_model, np.zeros((T, 133, 3)), np.ones((T, 133)), "nope")


def test_recovers_noisy_sequence_with_dropouts(random_model, sequence):
    _, truth = sequence
    rng = np.random.default_rng(0)
    kp = truth.keypoints + rng.normal(scale=0.01, size=truth.keypoints.shape)
    scores = np.where(rng.random((T, 133)) < 0.1, 0.0, 1.0)
    res = fit_sequence(random_model, kp, scores)
    assert _error_mm(res.keypoints, truth.keypoints) <= 15.0


def test_rigid_transform_equivariance(random_model, sequence):
    """Transformed targets give the transformed body: same joints in the body frame, global
    orientation R @ R_a (twists that no keypoint sees are left to the prior and not compared)."""
    params, truth = sequence
    R = axis_angle_to_matrix(np.array([0.3, -1.2, 0.5]))
    t = np.array([0.5, -0.2, 1.0])
    a = fit_sequence(random_model, truth.keypoints, np.ones((T, 133)))
    b = fit_sequence(random_model, truth.keypoints @ R.T + t, np.ones((T, 133)))
    assert _error_mm(b.keypoints, a.keypoints @ R.T + t) < 5.0
    assert _error_mm(b.joints, a.joints @ R.T + t) < 10.0
    R_a = axis_angle_to_matrix(a.params["global_orient"])
    R_b = axis_angle_to_matrix(b.params["global_orient"])
    cos = (np.trace(R_b @ np.swapaxes(R @ R_a, 1, 2), axis1=1, axis2=2) - 1) / 2
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 10.0


@pytest.mark.slow
def test_reprojection_term_pulls_towards_2d(random_model, sequence):
    """Depth-biased 3D targets plus exact 2D keypoints: the camera term reduces the 2D error."""
    from wholebody.camera import Camera

    _, truth = sequence
    cam = Camera(1000.0, 1000.0, 500.0, 500.0, 1000, 1000)
    k2d = cam.project(truth.keypoints)
    biased = truth.keypoints + np.array([0.03, -0.02, 0.05])
    plain = fit_sequence(random_model, biased, np.ones((T, 133)), "fast")
    cfg = dataclasses.replace(get_config("fast"), reprojection_weight=100.0)
    both = fit_sequence(random_model, biased, np.ones((T, 133)), cfg, camera=cam, keypoints2d=k2d)
    err_plain = np.linalg.norm(cam.project(plain.keypoints) - k2d, axis=-1).mean()
    err_both = np.linalg.norm(cam.project(both.keypoints) - k2d, axis=-1).mean()
    assert err_both < 0.5 * err_plain
    with pytest.raises(ValueError, match="keypoints2d"):
        fit_sequence(random_model, biased, np.ones((T, 133)), camera=cam)


@pytest.mark.slow
def test_recovers_sequence_on_open_model():
    from body_models.model_file import OPEN_MODEL_FILE, load_model_file

    if not OPEN_MODEL_FILE.is_file():
        pytest.skip(f"open model not built ({OPEN_MODEL_FILE} missing)")
    model = load_model_file("open")
    params = synthetic_params(model, T, seed=2)
    truth = body_forward(model, params)
    res = fit_sequence(model, truth.keypoints, np.ones((T, 133)))
    assert _error_mm(res.keypoints, truth.keypoints) <= 5.0


def test_recovers_limbs_far_from_the_rest_pose(random_model, sequence):
    """Arms hanging down (~70 deg from the T-pose): the body stage's wide robust kernel must not
    treat the whole-arm error of the initial pose as an outlier (a tight one left them out)."""
    params, _ = sequence
    params = {k: np.array(v, copy=True) for k, v in params.items()}
    body = params["body_pose"].reshape(T, 21, 3)
    from wholebody.keypoints import SMPLX

    body[:, SMPLX.index("left_shoulder") - 1] = [0.0, 0.0, -1.2]
    body[:, SMPLX.index("right_shoulder") - 1] = [0.0, 0.0, 1.2]
    params["body_pose"] = body.reshape(T, 63)
    truth = body_forward(random_model, params)
    res = fit_sequence(random_model, truth.keypoints, np.ones((T, 133)))
    for part in ("left_hand", "right_hand"):
        ix = COCO_WHOLEBODY.part(part)
        assert _error_mm(res.keypoints[:, ix], truth.keypoints[:, ix]) <= 10.0, part

"""Command-line contract of ``fit`` (experiments.fit_sequence) and ``body`` (body_forward)."""

from __future__ import annotations

import numpy as np
import pytest

from body_models.forward import body_forward
from body_models.model_file import load_model_file
from body_models.synthetic import random_model_file

SMPLX_KEYS = ("betas", "expression", "global_orient", "transl", "body_pose", "jaw_pose",
              "leye_pose", "reye_pose", "left_hand_pose", "right_hand_pose")  # fmt: skip


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return random_model_file(tmp_path_factory.mktemp("m") / "SMPLX_NEUTRAL.npz", seed=5)


def test_body_command(tmp_path, model_path):
    from experiments.body_forward import main

    T = 3
    rng = np.random.default_rng(0)
    params = {"global_orient": rng.normal(size=(T, 3)) * 0.3, "body_pose": rng.normal(size=(T, 63))
              * 0.2, "transl": np.zeros((T, 3)), "betas": rng.normal(size=10)}  # fmt: skip
    np.savez(tmp_path / "p.npz", **params)
    assert main([str(tmp_path / "p.npz"), "--out", str(tmp_path / "o.npz"), "--model",
                 str(model_path), "--vertices"]) == 0  # fmt: skip
    out = np.load(tmp_path / "o.npz")
    assert out["joints"].shape == (T, 55, 3) and out["keypoints3d"].shape == (T, 133, 3)
    assert out["vertices"].shape == (T, 10475, 3) and out["faces"].shape[1] == 3
    ref = body_forward(load_model_file(model_path), params)
    np.testing.assert_allclose(out["keypoints3d"], ref.keypoints, atol=1e-6)
    with pytest.raises(ValueError, match="no smplx parameters"):
        np.savez(tmp_path / "e.npz", foo=np.zeros(3))
        main(
            [str(tmp_path / "e.npz"), "--out", str(tmp_path / "x.npz"), "--model", str(model_path)]
        )


def test_missing_model_file_is_named(tmp_path):
    from experiments.body_forward import main

    np.savez(tmp_path / "p.npz", transl=np.zeros((1, 3)))
    (tmp_path / "no_models").mkdir()
    with pytest.raises(ValueError, match="SMPLX_NEUTRAL"):
        main([str(tmp_path / "p.npz"), "--out", str(tmp_path / "o.npz"), "--model",
              str(tmp_path / "no_models")])  # fmt: skip


@pytest.mark.slow
def test_fit_command(tmp_path, model_path):
    from experiments.fit_sequence import main

    model = load_model_file(model_path)
    T = 6
    params = {
        "global_orient": np.tile([np.pi, 0.0, 0.0], (T, 1)),
        "transl": np.tile([0, 0, 3.0], (T, 1)),
        "body_pose": np.full((T, 63), 0.05),
    }
    kp = body_forward(model, params).keypoints
    np.savez(tmp_path / "in.npz", keypoints3d=kp, scores=np.ones((T, 133)))
    out_path = tmp_path / "fit.npz"
    assert main([str(tmp_path / "in.npz"), "--out", str(out_path), "--model", str(model_path),
                 "--config", "fast", "--meshes", str(tmp_path / "meshes"), "--mesh-frames", "0,5",
                 "--mesh-format", "ply", "--run-dir", str(tmp_path / "run")]) == 0  # fmt: skip
    out = np.load(out_path)
    for key in SMPLX_KEYS + ("joints", "keypoints3d", "model"):
        assert key in out.files, key
    assert out["left_hand_pose"].shape == (T, 45) and out["joints"].shape == (T, 55, 3)
    assert np.linalg.norm(out["keypoints3d"] - kp, axis=-1).mean() < 0.01
    assert (tmp_path / "fit_residuals.png").is_file()
    assert sorted(p.name for p in (tmp_path / "meshes").iterdir()) == [
        "frame_00000.ply", "frame_00005.ply"]  # fmt: skip
    assert (tmp_path / "run" / "metrics.jsonl").read_text().count("\n") >= 3

"""`python -m experiments.export_motion` (the `export` subcommand) on a fitted-params file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh

from body_models import random_model_file
from body_models.export.bvh_read import read_bvh
from body_models.export.fbx_read import read_fbx_motion
from experiments import cli, export_motion


@pytest.fixture(scope="module")
def params_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("fit")
    model = random_model_file(d / "model.npz")
    rng = np.random.default_rng(0)
    T = 6
    arrays = {
        "betas": rng.normal(size=10) * 0.5,
        "global_orient": np.tile([np.pi, 0, 0], (T, 1)),
        "transl": np.tile([0.0, 0.2, 3.0], (T, 1)),
        "body_pose": rng.normal(scale=0.3, size=(T, 63)),
        "jaw_pose": np.zeros((T, 3)), "leye_pose": np.zeros((T, 3)), "reye_pose": np.zeros((T, 3)),
        "left_hand_pose": rng.normal(scale=0.3, size=(T, 45)),
        "right_hand_pose": rng.normal(scale=0.3, size=(T, 45)),
        "expression": np.zeros((T, 10)),
        "joints": np.zeros((T, 55, 3)),
        "model": np.array(str(model)),
    }  # fmt: skip
    path = d / "PARAMS.npz"
    np.savez(path, **arrays)
    return path


def test_export_bvh_fbx_glb(tmp_path, params_file):
    run = tmp_path / "run"
    out = tmp_path / "a.bvh"
    args = ["--run-dir", str(run)]
    assert cli.main(["export", str(params_file), "--format", "bvh", "--out", str(out), *args]) == 0
    m = read_bvh(out)
    assert m.num_joints == 55 and m.num_frames == 6 and abs(m.fps - 30) < 1e-6
    # upright in a Y-up world: the head is above the pelvis
    pos, _ = m.forward_kinematics()
    assert np.all(pos[:, m.index("head"), 1] > pos[:, 0, 1] + 0.3)

    fbx = tmp_path / "a.fbx"
    argv = [str(params_file), "--format", "fbx", "--out", str(fbx), "--up", "z", "--units", "cm"]
    assert export_motion.main([*argv, "--names", "mixamo", "--fps", "24", *args]) == 0
    fm, settings = read_fbx_motion(fbx)
    assert "LeftHandIndex1" in fm.names and abs(fm.fps - 24) < 1e-9
    assert settings["UpAxis"] == 2 and settings["UnitScaleFactor"] == 1.0
    fpos, _ = fm.forward_kinematics()
    assert np.all(fpos[:, fm.index("Head"), 2] > fpos[:, 0, 2] + 30)  # Z up, centimetres

    glb = tmp_path / "a.glb"
    assert export_motion.main([str(params_file), "--format", "glb", "--out", str(glb), *args]) == 0
    (geom,) = trimesh.load(glb).geometry.values()
    assert len(geom.vertices) == 10475
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["frames"] == 6
    assert json.loads((run / "config.json").read_text())["format"] == "glb"


def test_export_bad_input(tmp_path, params_file):
    with pytest.raises(ValueError, match="glTF is Y-up metres"):
        export_motion.main([str(params_file), "--format", "glb", "--out", str(tmp_path / "x.glb"),
                            "--up", "z", "--run-dir", str(tmp_path)])  # fmt: skip
    data = dict(np.load(params_file))
    data["body_pose"][2, 5] = np.nan
    bad = tmp_path / "bad.npz"
    np.savez(bad, **data)
    with pytest.raises(
        ValueError, match="body_pose: expected finite rotations, got NaN/inf at frame 2"
    ):
        export_motion.main([str(bad), "--format", "bvh", "--out", str(tmp_path / "x.bvh"),
                            "--run-dir", str(tmp_path)])  # fmt: skip
    assert not (tmp_path / "x.bvh").exists() and not (tmp_path / "x.glb").exists()
    with pytest.raises(ValueError, match="npz file not found"):
        export_motion.main([str(tmp_path / "none.npz"), "--format", "bvh", "--out", "x.bvh"])


def test_retarget_cmu_then_export(tmp_path, params_file):
    from pathlib import Path

    from body_models import load_model_file
    from body_models.forward import body_forward

    cmu = Path(__file__).parents[1] / "body_models/export/data/cmu_01_01_15fps.bvh"
    model_path = str(np.load(params_file)["model"])
    out = tmp_path / "PARAMS.npz"
    argv = ["retarget", str(cmu), "--out", str(out), "--model", model_path, "--every", "8"]
    assert cli.main(argv) == 0
    data = dict(np.load(out))
    T = 43  # 344 frames, every 8th
    assert data["body_pose"].shape == (T, 63) and data["joints"].shape == (T, 55, 3)
    assert abs(float(data["fps"]) - 15 / 8) < 1e-3
    keys = ("betas", "global_orient", "transl", "body_pose", "left_hand_pose", "right_hand_pose")
    joints = body_forward(load_model_file(model_path), {k: data[k] for k in keys}).joints
    np.testing.assert_allclose(data["joints"], joints, atol=2e-5)  # saved joints = body model
    assert np.all(joints[:, 15, 1] < joints[:, 0, 1])  # camera frame: head above pelvis (y down)
    bvh = tmp_path / "r.bvh"
    argv = [str(out), "--format", "bvh", "--out", str(bvh), "--run-dir", str(tmp_path / "run")]
    assert export_motion.main(argv) == 0
    assert read_bvh(bvh).num_frames == T

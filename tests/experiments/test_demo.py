"""The end-to-end demo: every stage runs through its own command and writes its files."""

import json

import numpy as np
import pytest

from experiments import demo


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert demo.main(["--frames", "6", "--run-name", "t"]) == 0
    out = tmp_path / "runs" / "t"
    expected = [
        "motion.bvh",
        "motion.fbx",
        "motion.glb",
        "fit.npz",
        "config.json",
        "controlnet_pose/openpose.json",
        "controlnet_pose/pose_00005.png",
        "controlnet_depth/depth_00005.png",
        "controlnet_normal/normal_00005.png",
    ]
    for name in expected:
        assert (out / name).is_file(), name
    stages = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    acc = {m["stage"]: m for m in stages}["fit accuracy"]
    assert acc["keypoint_error_mm_median"] < 20.0
    fit = np.load(out / "fit.npz")
    assert fit["keypoints3d"].shape == (6, 133, 3)


def test_walk_params_shapes_and_names():
    params = demo.walk_params(10, 30.0)
    assert params["body_pose"].shape == (10, 63)
    assert params["left_hand_pose"].shape == (10, 45)
    # walking: the two hips swing in opposite phase (rows found by name, not literal index)
    body = params["body_pose"].reshape(10, 21, 3)
    left = demo.SMPLX.index("left_hip") - 1
    right = demo.SMPLX.index("right_hip") - 1
    np.testing.assert_allclose(body[:, left, 0], -body[:, right, 0])

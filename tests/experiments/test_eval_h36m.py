"""eval_h36m command line on a small generated VideoPose3D directory."""

import json

import numpy as np
import pytest

from experiments.eval_h36m import main
from lifting.data import ground_truth_camera_frame, load_h36m_3d


@pytest.fixture
def h36m_dir(tmp_path):
    rng = np.random.default_rng(0)

    def mocap(n):
        return (rng.normal(0, 0.3, (n, 32, 3)) + [0.0, 0.0, 1.0]).astype(np.float32)

    pos3d = {
        "S9": {"Directions 1": mocap(6), "Walking": mocap(4)},
        "S11": {"Walking 1": mocap(5)},
    }
    np.savez(tmp_path / "data_3d_h36m.npz", positions_3d=pos3d)
    return tmp_path


def test_perfect_and_offset_predictions(h36m_dir, tmp_path, capsys):
    gt = ground_truth_camera_frame(load_h36m_3d(h36m_dir / "data_3d_h36m.npz"))
    assert len(gt) == 3 * 4
    np.savez(tmp_path / "perfect.npz", **gt)
    out = tmp_path / "m.json"
    assert (
        main(
            [
                "--data",
                str(h36m_dir),
                "--predictions",
                str(tmp_path / "perfect.npz"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    res = json.loads(out.read_text())
    assert res["mpjpe_mm"] == pytest.approx(0.0, abs=1e-3)
    assert set(res["per_action_mm"]["mpjpe"]) == {"Directions", "Walking"}
    assert res["frames"] == {"Directions": 24, "Walking": 36}
    text = capsys.readouterr().out
    assert "Directions" in text and "Average" in text and "p_mpjpe" in text

    # every non-root joint 10 mm off in x: protocol 1 = 16/17 * 10 mm for every action
    off = {}
    for k, v in gt.items():
        v = v.copy()
        v[:, 1:, 0] += 0.010
        off[k] = v
    np.savez(tmp_path / "off.npz", **off)
    assert (
        main(
            ["--data", str(h36m_dir), "--predictions", str(tmp_path / "off.npz"), "--out", str(out)]
        )
        == 0
    )
    assert json.loads(out.read_text())["mpjpe_mm"] == pytest.approx(10 * 16 / 17, rel=1e-4)


def test_bad_predictions(h36m_dir, tmp_path, capsys):
    gt = ground_truth_camera_frame(load_h36m_3d(h36m_dir / "data_3d_h36m.npz"))
    missing = dict(list(gt.items())[1:])
    np.savez(tmp_path / "missing.npz", **missing)
    assert main(["--data", str(h36m_dir), "--predictions", str(tmp_path / "missing.npz")]) == 2
    assert "missing 1 sequences" in capsys.readouterr().err
    np.savez(tmp_path / "shape.npz", **{k: v[..., :2] for k, v in gt.items()})
    assert main(["--data", str(h36m_dir), "--predictions", str(tmp_path / "shape.npz")]) == 2
    assert "(N, 17, 3)" in capsys.readouterr().err
    assert (
        main(["--data", str(tmp_path / "nowhere"), "--predictions", str(tmp_path / "shape.npz")])
        == 2
    )
    assert "missing file" in capsys.readouterr().err


@pytest.mark.slow
def test_predict_with_checkpoint_and_flip_tta(h36m_dir, tmp_path):
    from flax import nnx

    import lifting
    from lifting.checkpoint import save_checkpoint

    model = lifting.create_model("tiny", rngs=nnx.Rngs(0))
    ckpt = save_checkpoint(model, tmp_path / "ckpt", meta={"input_norm": "screen", "clip_len": 4})
    out = tmp_path / "m.json"
    argv = ["--data", str(h36m_dir), "--checkpoint", str(ckpt), "--flip-tta", "--out", str(out)]
    assert main(argv) == 0
    res = json.loads(out.read_text())
    assert res["frames"] == {"Directions": 24, "Walking": 36}
    assert np.isfinite(res["mpjpe_mm"]) and res["p_mpjpe_mm"] <= res["mpjpe_mm"] + 1e-6
    # the int8 (onnxruntime) predictor through the same path
    assert main([*argv[:-1], str(tmp_path / "int8.json"), "--dtype", "int8"]) == 0
    int8 = json.loads((tmp_path / "int8.json").read_text())
    assert abs(int8["mpjpe_mm"] - res["mpjpe_mm"]) < 0.02 * res["mpjpe_mm"]


@pytest.mark.slow
def test_motionbert_pickle_mode(h36m_dir, tmp_path, capsys):
    import pickle

    from flax import nnx

    import lifting
    from lifting.checkpoint import save_checkpoint

    rng = np.random.default_rng(0)
    sources = ["s_09_act_02_subact_01_ca_01"] * 9 + ["s_11_act_03_subact_01_ca_03"] * 5
    n = len(sources)
    kp3 = rng.uniform(100, 900, (n, 17, 3)).astype(np.float32)
    split = {
        "joint_2d": kp3[..., :2],
        "confidence": np.ones((n, 17), np.float32),
        "joint3d_image": kp3,
        "camera_name": ["54138969"] * 9 + ["58860488"] * 5,
        "source": sources,
        "action": ["Directions"] * 9 + ["Discussion"] * 5,
        "2.5d_factor": np.full(n, 4.0),
        "joints_2.5d_image": kp3 * 4.0,
    }
    pkl = tmp_path / "mb.pkl"
    pkl.write_bytes(pickle.dumps({"train": split, "test": split}))
    model = lifting.create_model("tiny", rngs=nnx.Rngs(0))
    meta = {"clip_len": 4, "output_unit": "normalized"}
    ckpt = save_checkpoint(model, tmp_path / "ckpt", meta=meta)
    out = tmp_path / "m.json"
    argv = ["--motionbert-pkl", str(pkl), "--checkpoint", str(ckpt), "--out", str(out)]
    assert main(argv + ["--flip-tta"]) == 0
    res = json.loads(out.read_text())
    # clips of 4: S9 [0..3], [4..7] (tail frame 8 dropped); S11 is the last sequence: [9..12]
    assert res["frames"] == {"Directions": 8, "Discussion": 4}
    assert np.isfinite(res["mpjpe_mm"])
    # a normalised-output checkpoint cannot be scored in metres on the VideoPose3D data
    assert main(["--data", str(h36m_dir), "--checkpoint", str(ckpt)]) == 2
    assert "not metres" in capsys.readouterr().err

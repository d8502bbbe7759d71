"""train_lifter on a small generated VideoPose3D directory: outputs, checkpoint meta, resume."""

import json

import numpy as np
import pytest

from experiments.train_lifter import main
from lifting.checkpoint import read_config
from lifting.data import h36m_camera, mocap32_to_h36m17


@pytest.mark.slow
def test_train_lifter_h36m_dir_and_resume(tmp_path):
    rng = np.random.default_rng(0)
    pos3d = {
        s: {"Walking": (rng.normal(0, 0.3, (20, 32, 3)) + [0, 0, 1]).astype(np.float32)}
        for s in ("S1", "S9")
    }
    pos2d = {
        s: {a: [h36m_camera(s, c).project_world(mocap32_to_h36m17(p)) for c in range(4)]}
        for s, acts in pos3d.items()
        for a, p in acts.items()
    }
    np.savez(tmp_path / "data_3d_h36m.npz", positions_3d=pos3d)
    np.savez(tmp_path / "data_2d_h36m_cpn_ft_h36m_dbb.npz", positions_2d=pos2d)
    argv = ["--data", str(tmp_path), "--keypoints2d", "data_2d_h36m_cpn_ft_h36m_dbb.npz"]
    argv += ["--preset", "tiny", "--clip-len", "9", "--batch-size", "4", "--input-norm", "bbox"]
    argv += ["--name", "h36m", "--runs-dir", str(tmp_path / "runs")]
    assert main(argv + ["--epochs", "1"]) == 0
    assert main(argv + ["--epochs", "2", "--resume"]) == 0
    run = tmp_path / "runs" / "h36m"
    lines = [json.loads(s) for s in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2]
    assert all(np.isfinite(r["val_mpjpe_mm"]) for r in lines)
    config = json.loads((run / "config.json").read_text())
    # 20 frames: clips at 0, 3, 6, 9 + resampled tail (stride 3); validation 0, 9 + last window
    assert config["clips"]["train"] == 4 * 5 and config["clips"]["validation"] == 4 * 3
    meta = read_config(run / "checkpoints" / "last").meta
    assert meta["input_norm"] == "bbox" and meta["clip_len"] == 9


@pytest.mark.slow
def test_train_lifter_motionbert_pickle(tmp_path):
    import pickle

    rng = np.random.default_rng(0)

    def split(sources, test):
        n = len(sources)
        kp3 = rng.uniform(300, 700, (n, 17, 3)).astype(np.float32)
        out = {
            "joint_2d": kp3[..., :2],
            "confidence": rng.uniform(0.5, 1, (n, 17)).astype(np.float32),
            "joint3d_image": kp3,
            "camera_name": ["54138969"] * n,
            "source": sources,
        }
        if test:
            out.update({"action": ["Walking"] * n, "2.5d_factor": np.full(n, 4.0)})
            out["joints_2.5d_image"] = kp3 * 4.0
        return out

    train_src = ["s_01_act_02_subact_01_ca_01"] * 30
    test_src = ["s_09_act_14_subact_01_ca_01"] * 18
    pkl = tmp_path / "mb.pkl"
    pkl.write_bytes(pickle.dumps({"train": split(train_src, False), "test": split(test_src, True)}))
    argv = ["--motionbert-pkl", str(pkl), "--preset", "tiny", "--clip-len", "9", "--epochs", "1"]
    argv += ["--batch-size", "4", "--name", "mb", "--runs-dir", str(tmp_path / "runs")]
    assert main(argv) == 0
    run = tmp_path / "runs" / "mb"
    config = json.loads((run / "config.json").read_text())
    assert config["clips"]["train"] == 8  # 30 frames, clips of 9 at stride 3: starts 0..21
    rec = json.loads((run / "metrics.jsonl").read_text().splitlines()[0])
    assert np.isfinite(rec["val_mpjpe_mm"]) and rec["val_mpjpe_mm"] > 0
    assert read_config(run / "checkpoints" / "last").meta["output_unit"] == "normalized"

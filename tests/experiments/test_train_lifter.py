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

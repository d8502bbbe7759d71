"""experiments.lift: the 2D npz -> 3D npz command-line contract."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from experiments.lift import body_height, main
from lifting.checkpoint import save_checkpoint
from lifting.model import create_model
from wholebody.keypoints import H36M


def write_track(path, t=40, j=133, nan_frame=None):
    rng = np.random.default_rng(0)
    kp = rng.uniform(300, 500, (t, j, 2))
    sc = rng.uniform(0.4, 1.0, (t, j))
    if nan_frame is not None:
        kp[nan_frame] = np.nan
        sc[nan_frame + 1] = 0.0
    np.savez(path, keypoints=kp, scores=sc, image_size=np.array([720, 1280]))
    return path


@pytest.fixture(scope="module")
def normalized_checkpoint(tmp_path_factory):
    """A tiny 17-joint checkpoint whose outputs are in normalised units (like MotionBERT)."""
    model = create_model("tiny", rngs=4)
    model.config = dataclasses.replace(
        model.config, meta={"input_norm": "bbox", "output_unit": "normalized"}
    )
    return save_checkpoint(model, tmp_path_factory.mktemp("ckpt") / "tiny")


def test_wholebody_track_with_gaps_is_lifted_to_metres(tmp_path, normalized_checkpoint):
    src = write_track(tmp_path / "track.npz", t=40, nan_frame=5)
    out = tmp_path / "out.npz"
    # window 16 < T = 40: overlapping windows; NaN frame 5 and zero-confidence frame 6 inside
    assert main([str(src), "--out", str(out), "--checkpoint", str(normalized_checkpoint),
                 "--window", "16"]) == 0  # fmt: skip
    data = np.load(out)
    pose = data["keypoints3d"]
    assert pose.shape == (40, 17, 3) and pose.dtype == np.float32
    assert np.all(np.isfinite(pose))
    np.testing.assert_allclose(pose[:, H36M.index("pelvis")], 0.0, atol=1e-6)
    assert list(data["joint_names"]) == list(H36M.names)
    # normalised-unit models are scaled to the default 1.7 m person
    assert abs(body_height(H36M, pose) - 1.7) < 1e-3
    assert np.all(data["scores"][6] == 0.0)


def test_online_mode_and_random_init(tmp_path):
    src = write_track(tmp_path / "coco.npz", t=12, j=17)
    out = tmp_path / "online.npz"
    assert main([str(src), "--out", str(out), "--random-init", "--preset", "tiny",
                 "--online", "--window", "8", "--no-flip"]) == 0  # fmt: skip
    assert np.load(out)["keypoints3d"].shape == (12, 17, 3)
    int8 = tmp_path / "int8.npz"
    assert main([str(src), "--out", str(int8), "--random-init", "--preset", "tiny",
                 "--window", "8", "--dtype", "int8"]) == 0  # fmt: skip
    assert np.isfinite(np.load(int8)["keypoints3d"]).all()


def test_missing_checkpoint_and_bad_files_raise(tmp_path):
    src = write_track(tmp_path / "t.npz", t=5, j=17)
    out = str(tmp_path / "o.npz")
    with pytest.raises(ValueError, match="--checkpoint"):
        main([str(src), "--out", out])
    with pytest.raises(ValueError, match="best_epoch.bin"):
        main([str(src), "--out", out, "--checkpoint", str(tmp_path / "best_epoch.bin")])
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="cannot read npz"):
        main([str(bad), "--out", out, "--random-init"])
    np.savez(tmp_path / "k.npz", keypoints=np.zeros((5, 17, 2)), scores=np.zeros((5, 16)),
             image_size=np.array([10, 10]))  # fmt: skip
    with pytest.raises(ValueError, match="scores must be"):
        main([str(tmp_path / "k.npz"), "--out", out, "--random-init"])
    np.savez(tmp_path / "m.npz", keypoints=np.zeros((5, 17, 2)))
    with pytest.raises(ValueError, match="missing arrays"):
        main([str(tmp_path / "m.npz"), "--out", out, "--random-init"])
    np.savez(tmp_path / "j.npz", keypoints=np.zeros((5, 20, 2)), scores=np.ones((5, 20)),
             image_size=np.array([10, 10]))  # fmt: skip
    with pytest.raises(ValueError, match="--input-set"):
        main([str(tmp_path / "j.npz"), "--out", out, "--random-init"])

"""Console script and spine experiment modules."""

import importlib

import numpy as np
import pytest

from experiments import cli
from experiments.npz_io import load_npz


def test_every_subcommand_has_help(capsys):
    assert cli.main(["--help"]) == 0
    for name, (module, _) in cli.SUBCOMMANDS.items():
        assert hasattr(importlib.import_module(module), "main"), name
        with pytest.raises(SystemExit) as exc:
            cli.main([name, "--help"])
        assert exc.value.code == 0, name
    assert "usage" in capsys.readouterr().out


def test_unknown_command_errors():
    with pytest.raises(SystemExit):
        cli.main(["no-such-command"])


def test_keypoints_listing(capsys):
    assert cli.main(["keypoints"]) == 0
    out = capsys.readouterr().out
    assert "coco_wholebody   133" in out
    assert cli.main(["keypoints", "coco_wholebody", "--to", "openpose18"]) == 0
    assert "neck" in capsys.readouterr().out


def test_convert_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    kp = rng.uniform(0, 100, size=(4, 133, 2))
    np.savez(tmp_path / "in.npz", keypoints=kp, scores=np.ones((4, 133)), fps=np.array(30.0))
    assert cli.main(["convert", str(tmp_path / "in.npz"), "--src", "coco_wholebody",
                     "--dst", "coco", "--out", str(tmp_path / "out.npz")]) == 0  # fmt: skip
    out = load_npz(tmp_path / "out.npz")
    np.testing.assert_array_equal(out["keypoints"], kp[:, :17])
    assert float(out["fps"]) == 30.0
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="cannot read npz"):
        load_npz(tmp_path / "bad.npz")

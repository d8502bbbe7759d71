"""export_pose_onnx and bench_wholebody command lines (tiny model, smoke + numbers)."""

import json

import numpy as np
import onnx
import pytest
import torch

from experiments import bench_wholebody, export_pose_onnx
from wholebody.checkpoint import load_model
from wholebody.inference.ort_backend import OrtBackend
from wholebody.models import count_macs


def test_export_cli_writes_onnx_and_safetensors(tmp_path):
    rc = export_pose_onnx.main(
        [
            "--model",
            "rtmw-tiny-test",
            "--out",
            str(tmp_path / "m.onnx"),
            "--safetensors",
            str(tmp_path / "w"),
            "--static-batch",
        ]
    )
    assert rc == 0
    model = load_model(tmp_path / "w")
    backend = OrtBackend(tmp_path / "m.onnx")
    assert backend.max_batch == 1
    x = np.random.default_rng(0).normal(size=(2, 3, 128, 96)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x))
    for a, b in zip(ref, backend(x), strict=True):
        assert np.abs(a.numpy() - b).max() <= 1e-4 * np.abs(a.numpy()).max() + 1e-6
    assert [o.name for o in onnx.load(str(tmp_path / "m.onnx")).graph.output] == [
        "simcc_x",
        "simcc_y",
    ]
    with pytest.raises(SystemExit):
        export_pose_onnx.main(["--model", "rtmw-tiny-test"])  # nothing to do


@pytest.mark.slow
def test_bench_smoke(tmp_path, capsys):
    rc = bench_wholebody.main(
        [
            "--models",
            "rtmpose-tiny-test",
            "--people",
            "1",
            "2",
            "--iters",
            "1",
            "--threads",
            "1",
            "--out",
            str(tmp_path / "b"),
            "--eval-images",
            "50",
        ]
    )
    assert rc == 0
    rows = [
        json.loads(line) for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
    ]
    assert [r["people"] for r in rows] == [1, 2]
    for r in rows:
        for key in (
            "torch_e2e_crops_s",
            "ort_e2e_crops_s",
            "ort_model_crops_s",
            "ort_loop_crops_s",
        ):
            assert r[key] > 0
        assert r["gmacs"] == pytest.approx(count_macs("rtmpose-tiny-test") / 1e9)
    out = capsys.readouterr().out
    assert "roofline" in out and "pycocotools" in out

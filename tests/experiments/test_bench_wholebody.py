"""bench_wholebody helpers: round-robin timing, the model-free pipeline backend, the GPU rows."""

import numpy as np
import pytest
import torch

from experiments import bench_wholebody
from tests.wholebody.conftest import perturbed_model
from wholebody.inference import TopdownPredictor, TorchBackend


def test_round_robin_interleaves_calls():
    calls = []
    fns = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    t = bench_wholebody.time_round_robin(fns, iters=3, warmup=1)
    assert calls == ["a", "b"] * 4  # warm-up round, then 3 interleaved rounds
    assert set(t) == {"a", "b"} and all(v >= 0 for v in t.values())


def test_ready_outputs_times_the_pipeline_without_the_model():
    model = perturbed_model("rtmpose-tiny-test")
    backend = TorchBackend(model)
    image = np.random.default_rng(0).integers(0, 255, (120, 100, 3)).astype(np.uint8)
    boxes = np.array([[5, 5, 60, 90], [20, 10, 95, 115]], float)
    pred = TopdownPredictor(backend)
    crops, _, _ = pred.crop(image, boxes)
    ready = bench_wholebody.ReadyOutputs(backend, crops)
    a = TopdownPredictor(ready).predict(image, boxes)
    b = pred.predict(image, boxes)
    np.testing.assert_allclose(a.keypoints, b.keypoints)
    np.testing.assert_allclose(a.scores, b.scores)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_gpu_rows_skip_with_a_reason_without_a_gpu(capsys):
    model = perturbed_model("rtmpose-tiny-test")
    assert bench_wholebody.gpu_context(model, np.zeros((10, 10, 3), np.uint8), 8) is None
    out = capsys.readouterr().out
    assert "GPU goal" in out and "skipped" in out and "torch.cuda.is_available() is False" in out


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_gpu_rows_on_a_gpu():
    model = perturbed_model("rtmpose-tiny-test")
    image = np.random.default_rng(0).integers(0, 255, (120, 100, 3)).astype(np.uint8)
    pred = bench_wholebody.gpu_context(model, image, 8)
    boxes = np.tile([[5.0, 5.0, 60.0, 90.0]], (8, 1))
    row = bench_wholebody.gpu_rows(pred, image, boxes, iters=1)
    assert row["gpu_batched_crops_s"] > 0 and row["gpu_loop_crops_s"] > 0
    assert row["gpu_batched_vs_loop"] == pytest.approx(
        row["gpu_batched_crops_s"] / row["gpu_loop_crops_s"]
    )


def test_round_robin_repeats_fast_calls_up_to_min_seconds():
    now = [0.0]

    def clock():
        return now[0]

    def tick():
        now[0] += 0.125  # every call "takes" 0.125 s (exact in binary)

    calls = []
    fns = {"a": lambda: (calls.append("a"), tick()), "b": lambda: (calls.append("b"), tick())}
    t = bench_wholebody.time_round_robin(fns, iters=2, warmup=1, clock=clock, min_seconds=1.0)
    assert len(calls) == 2 * (1 + 4)  # a 0.25 s round: 4 timed rounds reach 1 s (> iters=2)
    assert t["a"] == t["b"] == 0.125
    calls.clear()
    bench_wholebody.time_round_robin(fns, iters=2, warmup=1, clock=clock, min_seconds=1e6)
    assert len(calls) == 2 * (1 + bench_wholebody.MAX_REPEAT * 2)  # capped
    calls.clear()
    bench_wholebody.time_round_robin(fns, iters=2, warmup=1, clock=clock, min_seconds=0)
    assert len(calls) == 2 * (1 + 2)  # exactly iters

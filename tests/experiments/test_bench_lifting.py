"""The lifting benchmark's ingredients: analytic FLOPs and the torch peer's parity."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.bench_lifting import clip_flops
from lifting.config import get_config


def test_flops_match_the_reference_mac_counts():
    # reference sheet 4.1 / 6.4: full J=17 T=243: 174.4 G linear MACs + 11.0 G attention MACs
    full = clip_flops(get_config("motionbert"), 243) / 2e9
    assert abs(full - (174.4 + 11.0)) < 0.6
    lite = clip_flops(get_config("motionbert-lite"), 243) / 2e9
    assert abs(lite - (65.5 + 5.5)) < 0.6
    wb = clip_flops(get_config("motionbert", num_joints=133), 243) / 2e9
    assert abs(wb - (1364.5 + 124.4)) < 3.0


def test_flops_agree_with_xla_cost_analysis():
    # XLA counts the same matmuls plus the elementwise work (LayerNorm, softmax, GELU, adds)
    import jax
    from flax import nnx

    from lifting.model import create_model

    model = create_model("motionbert", depth=1)
    graphdef, state = nnx.split(model)
    x = jax.ShapeDtypeStruct((1, 27, 17, 3), np.float32)
    compiled = jax.jit(lambda s, v: nnx.merge(graphdef, s)(v)).lower(state, x).compile()
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    ratio = cost["flops"] / clip_flops(model.config, 27)
    assert 1.0 <= ratio < 1.01


def test_torch_peer_matches_the_jax_model():
    torch = pytest.importorskip("torch")
    from experiments.torch_dstformer import from_lifting_state
    from lifting.checkpoint import state_dict
    from lifting.inference import make_predictor
    from lifting.model import create_model

    for causal in (False, True):
        model = create_model("tiny", rngs=2, causal=causal)
        peer = from_lifting_state(model.config, state_dict(model))
        x = np.random.default_rng(0).normal(size=(2, 6, 17, 3)).astype(np.float32)
        with torch.inference_mode():
            expected = peer(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(make_predictor(model)(x), expected, atol=2e-6)


def test_bench_runs_and_reports_causal_latency(tmp_path, capsys):
    import json

    from experiments.bench_lifting import main

    argv = ["--presets", "tiny", "--frames", "9", "--iters", "1", "--warmup", "0"]
    argv += ["--no-torch", "--causal", "--runs-dir", str(tmp_path), "--name", "b"]
    assert main(argv) == 0
    lines = (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
    row = json.loads(lines[0])
    assert row["preset"] == "tiny" and row["T"] == 9
    assert row["causal_ms_per_frame"] > 0 and row["jax_fps"] > 0
    assert 0 <= row["bf16_relative_change"] < 0.1  # bf16 keeps ~2-3 significant digits
    assert row["ort_fp32_relative_change"] < 1e-4 and row["ort_fp32_speedup"] > 0
    assert 0 < row["ort_int8_relative_change"] < 0.1 and row["ort_int8_speedup"] > 0
    assert json.loads(lines[-1])["roofline_best_gflops"] > 0
    out = capsys.readouterr().out
    assert "causalms" in out and "int8 (ORT)" in out and "fp32 (ORT)" in out

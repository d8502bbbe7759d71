"""onnxruntime backend: ONNX export parity with the JAX forward, int8 predictor, bad input."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from lifting.checkpoint import load_state_dict, state_dict
from lifting.inference import flip_indices_for, flip_tta, lift_clips, make_predictor
from lifting.model import create_model
from lifting.onnx_backend import OrtLifter, quantize_int8
from lifting.onnx_export import build_onnx_model, linear_node_names


def _perturbed(causal: bool):
    """A tiny model whose LayerNorms, biases and stream fusion are not at their init values."""
    model = create_model("tiny", rngs=5, causal=causal)
    rng = np.random.default_rng(1)
    params = {
        k: (v + rng.normal(0.0, 0.05, v.shape)).astype(np.float32)
        for k, v in state_dict(model).items()
    }
    load_state_dict(model, params)
    return model, params


def _inputs(rng, batch: int, frames: int, joints: int = 17) -> np.ndarray:
    x = rng.uniform(-0.8, 0.8, (batch, frames, joints, 3)).astype(np.float32)
    x[..., 2] = rng.uniform(0.3, 1.0, x.shape[:-1])
    return x


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("contrib", [True, False])
def test_export_matches_the_jax_forward(causal, contrib):
    model, params = _perturbed(causal)
    proto = build_onnx_model(model.config, params, contrib_attention=contrib)
    onnx.checker.check_model(proto)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    jax_predict = make_predictor(model)
    rng = np.random.default_rng(2)
    for batch, frames in [(2, 27), (1, 81), (3, 4)]:  # one graph: dynamic batch and T
        x = _inputs(rng, batch, frames)
        ref = jax_predict(x)
        out = session.run(["y"], {"x": x})[0]
        assert out.shape == ref.shape
        rel = np.abs(out - ref).max() / np.abs(ref).max()
        assert rel < 1e-4, (batch, frames, rel)  # measured ~3e-7


@pytest.mark.parametrize("contrib", [True, False])
def test_causal_export_ignores_future_frames(contrib):
    model, params = _perturbed(True)
    lifter = OrtLifter(model.config, params, "float32", threads=1, contrib_attention=contrib)
    x = _inputs(np.random.default_rng(3), 1, 20)
    changed = x.copy()
    changed[:, 12:] += 0.5
    a, b = lifter(x), lifter(changed)
    np.testing.assert_allclose(a[:, :12], b[:, :12], rtol=0, atol=1e-6)
    assert np.abs(a[:, 12:] - b[:, 12:]).max() > 1e-3


def test_int8_predictor_is_close_to_float32():
    model, _ = _perturbed(False)
    x = _inputs(np.random.default_rng(4), 4, 27)
    ref = make_predictor(model)(x)
    ort32 = make_predictor(model, backend="onnxruntime")
    int8 = make_predictor(model, dtype="int8", batch_size=3)  # chunks of 3: 3 + padded 1
    assert ort32.backend == int8.backend == "onnxruntime"
    np.testing.assert_allclose(ort32(x), ref, rtol=1e-4, atol=1e-5)
    out = int8(x)
    assert out.dtype == np.float32 and out.shape == ref.shape
    rel = np.linalg.norm(out - ref, axis=-1).mean() / np.linalg.norm(ref, axis=-1).mean()
    assert 1e-4 < rel < 0.04, rel  # measured 0.016 (mean joint change / mean joint norm)
    # the same callable everywhere: clips, flip TTA
    clips = np.stack([np.arange(s, s + 27) for s in (0, 10, 20)])
    seq = _inputs(np.random.default_rng(5), 1, 47)[0]
    lifted = lift_clips(flip_tta(int8, flip_indices_for(model.config)), seq, clips)
    assert lifted.shape == (47, 17, 3) and np.isfinite(lifted).all()


@pytest.mark.parametrize("contrib", [True, False])
def test_int8_graph_quantises_only_the_chosen_layers(contrib):
    model, params = _perturbed(False)
    proto = build_onnx_model(model.config, params, contrib_attention=contrib)
    groups = linear_node_names(model.config, contrib)
    keep = ("embed", "head", "mlp")
    quant = quantize_int8(proto, model.config, keep_float=keep, contrib_attention=contrib)
    float_matmuls = {n.name for n in quant.graph.node if n.op_type == "MatMul"}
    kept = {name for k in keep for name in groups[k]}
    if contrib:  # attention products inside MultiHeadAttention, in float32
        assert float_matmuls == kept
        assert sum(n.op_type == "MultiHeadAttention" for n in quant.graph.node) == 4
    else:  # attention products QK^T and AV stay float32 MatMuls
        attention = {f"{q[: -len('.qkv')]}.{p}" for q in groups["qkv"] for p in ("qk", "av")}
        assert float_matmuls == kept | attention
    n_int = sum(n.op_type == "MatMulInteger" for n in quant.graph.node)
    assert n_int == sum(len(groups[k]) for k in ("qkv", "proj", "fuse", "pre_logits"))
    with pytest.raises(ValueError, match="unknown layer groups"):
        quantize_int8(proto, model.config, keep_float=("attention",))


def test_bad_input_and_options_give_clear_errors():
    model = create_model("tiny", rngs=0)
    int8 = make_predictor(model, dtype="int8")
    rng = np.random.default_rng(6)
    with pytest.raises(ValueError, match="17, 3"):
        int8(_inputs(rng, 1, 9, joints=16))
    with pytest.raises(ValueError, match="maxlen=81"):
        int8(_inputs(rng, 1, 82))
    with pytest.raises(ValueError, match="B, T, J, C"):
        int8(_inputs(rng, 1, 9)[0])
    assert int8(np.zeros((0, 9, 17, 3), np.float32)).shape == (0, 9, 17, 3)
    with pytest.raises(ValueError, match="not available on the onnxruntime"):
        make_predictor(model, dtype="bfloat16", backend="onnxruntime")
    with pytest.raises(ValueError, match="not available on the jax"):
        make_predictor(model, dtype="int8", backend="jax")
    with pytest.raises(ValueError, match="backend"):
        make_predictor(model, backend="tensorrt")
    with pytest.raises(ValueError, match="keep_float"):
        make_predictor(model, keep_float=("head",))
    with pytest.raises(ValueError, match="threads"):
        OrtLifter(model.config, state_dict(model), "int8", threads=0)
    params = state_dict(model)
    with pytest.raises(ValueError, match="pos_embed"):
        build_onnx_model(model.config, {**params, "pos_embed": params["pos_embed"][:16]})
    with pytest.raises(ValueError, match="missing"):
        build_onnx_model(model.config, {k: v for k, v in params.items() if "fc2" not in k})

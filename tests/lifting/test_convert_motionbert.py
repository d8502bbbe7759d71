"""MotionBERT converter: parity with an independent numpy DSTformer on torch-layout weights."""

from __future__ import annotations

import numpy as np
import pytest
from flax import nnx
from safetensors.numpy import save_file
from scipy.special import erf

from lifting.checkpoint import load_state_dict
from lifting.config import LifterConfig
from lifting.convert_motionbert import (
    config_from_motionbert,
    convert_motionbert_state_dict,
    load_motionbert,
    motionbert_state_dict,
)
from lifting.model import DSTformer

# small DSTformer: dim 16, depth 2, 4 heads, mlp_ratio 2, dim_rep 12, maxlen 10, 17 joints
D, DEPTH, HEADS, RATIO, REP, MAXLEN, J = 16, 2, 4, 2, 12, 10, 17


def random_motionbert_state(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random values in MotionBERT's key layout and torch shapes (Linear weight = [out, in])."""
    sd = {}

    def lin(name, n_in, n_out):
        sd[f"{name}.weight"] = rng.normal(0, 0.3, (n_out, n_in))
        sd[f"{name}.bias"] = rng.normal(0, 0.1, (n_out,))

    lin("joints_embed", 3, D)
    sd["pos_embed"] = rng.normal(0, 0.3, (1, J, D))
    sd["temp_embed"] = rng.normal(0, 0.3, (1, MAXLEN, 1, D))
    for stream in ("blocks_st", "blocks_ts"):
        for i in range(DEPTH):
            p = f"{stream}.{i}"
            for norm in ("norm1_s", "norm1_t", "norm2_s", "norm2_t"):
                sd[f"{p}.{norm}.weight"] = 1 + rng.normal(0, 0.1, (D,))
                sd[f"{p}.{norm}.bias"] = rng.normal(0, 0.1, (D,))
            for a in ("attn_s", "attn_t"):
                lin(f"{p}.{a}.qkv", D, 3 * D)
                lin(f"{p}.{a}.proj", D, D)
            for m in ("mlp_s", "mlp_t"):
                lin(f"{p}.{m}.fc1", D, D * RATIO)
                lin(f"{p}.{m}.fc2", D * RATIO, D)
    for i in range(DEPTH):
        lin(f"ts_attn.{i}", 2 * D, 2)
    sd["norm.weight"] = 1 + rng.normal(0, 0.1, (D,))
    sd["norm.bias"] = rng.normal(0, 0.1, (D,))
    lin("pre_logits.fc", D, REP)
    lin("head", REP, 3)
    return {k: v.astype(np.float32) for k, v in sd.items()}


# ---- independent numpy forward, written from MotionBERT's description (float64) ----


def np_linear(sd, name, x):
    return x @ sd[f"{name}.weight"].T.astype(np.float64) + sd[f"{name}.bias"]


def np_layer_norm(sd, name, x, eps=1e-6):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * sd[f"{name}.weight"] + sd[f"{name}.bias"]


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def np_attention(sd, name, x_bnc):
    """Token axis N; x (B', N, C); torch order qkv.reshape(B, N, 3, H, C/H)."""
    b, n, c = x_bnc.shape
    qkv = np_linear(sd, f"{name}.qkv", x_bnc).reshape(b, n, 3, HEADS, c // HEADS)
    q, k, v = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))  # (B', H, N, K)
    attn = np_softmax(q @ k.transpose(0, 1, 3, 2) * (c // HEADS) ** -0.5)
    out = (attn @ v).transpose(0, 2, 1, 3).reshape(b, n, c)
    return np_linear(sd, f"{name}.proj", out)


def np_spatial(sd, p, x):  # x (B, T, J, C)
    b, t, j, c = x.shape
    x = x + np_attention(
        sd, f"{p}.attn_s", np_layer_norm(sd, f"{p}.norm1_s", x).reshape(-1, j, c)
    ).reshape(x.shape)
    h = np_linear(sd, f"{p}.mlp_s.fc1", np_layer_norm(sd, f"{p}.norm2_s", x))
    return x + np_linear(sd, f"{p}.mlp_s.fc2", 0.5 * h * (1 + erf(h / np.sqrt(2))))


def np_temporal(sd, p, x):
    b, t, j, c = x.shape
    y = np_layer_norm(sd, f"{p}.norm1_t", x).transpose(0, 2, 1, 3).reshape(-1, t, c)
    x = x + np_attention(sd, f"{p}.attn_t", y).reshape(b, j, t, c).transpose(0, 2, 1, 3)
    h = np_linear(sd, f"{p}.mlp_t.fc1", np_layer_norm(sd, f"{p}.norm2_t", x))
    return x + np_linear(sd, f"{p}.mlp_t.fc2", 0.5 * h * (1 + erf(h / np.sqrt(2))))


def np_dstformer(sd, x):
    t = x.shape[1]
    x = np_linear(sd, "joints_embed", x.astype(np.float64))
    x = x + sd["pos_embed"][0] + sd["temp_embed"][0, :t]
    for i in range(DEPTH):
        x_st = np_temporal(sd, f"blocks_st.{i}", np_spatial(sd, f"blocks_st.{i}", x))
        x_ts = np_spatial(sd, f"blocks_ts.{i}", np_temporal(sd, f"blocks_ts.{i}", x))
        alpha = np_softmax(np_linear(sd, f"ts_attn.{i}", np.concatenate([x_st, x_ts], -1)))
        x = x_st * alpha[..., 0:1] + x_ts * alpha[..., 1:2]
    rep = np.tanh(np_linear(sd, "pre_logits.fc", np_layer_norm(sd, "norm", x)))
    return np_linear(sd, "head", rep)


@pytest.fixture(scope="module")
def torch_layout():
    rng = np.random.default_rng(0)
    sd = random_motionbert_state(rng)
    checkpoint = {"epoch": 3, "model_pos": {f"module.{k}": v for k, v in sd.items()}}
    x = rng.normal(0, 1, (2, 7, J, 3)).astype(np.float32)
    return sd, checkpoint, x


def test_converted_weights_match_independent_forward(torch_layout):
    sd, checkpoint, x = torch_layout
    state = motionbert_state_dict(checkpoint)
    config = config_from_motionbert(state, num_heads=HEADS)
    assert (config.dim, config.depth, config.mlp_ratio, config.dim_rep, config.maxlen) == (
        D,
        DEPTH,
        RATIO,
        REP,
        MAXLEN,
    )
    model = nnx.eval_shape(lambda: DSTformer(config, rngs=nnx.Rngs(0)))
    load_state_dict(model, convert_motionbert_state_dict(state, config))
    ours = np.asarray(nnx.jit(lambda m, v: m(v))(model, x))
    reference = np_dstformer(sd, x)
    assert np.abs(reference).max() > 0.1  # the comparison is not trivially of zeros
    np.testing.assert_allclose(ours, reference, atol=1e-5, rtol=1e-5)


def test_load_from_safetensors_and_npz_files(tmp_path, torch_layout):
    sd, checkpoint, x = torch_layout
    save_file(checkpoint["model_pos"], str(tmp_path / "mb.safetensors"))
    model = load_motionbert(tmp_path / "mb.safetensors", num_heads=HEADS)
    np.testing.assert_array_equal(np.asarray(model.head.kernel.value), sd["head.weight"].T)
    np.savez(tmp_path / "mb.npz", **sd)
    model = load_motionbert(tmp_path / "mb.npz", num_heads=HEADS)
    np.testing.assert_array_equal(np.asarray(model.temp_embed.value), sd["temp_embed"][0, :, 0])


def test_missing_and_misshapen_keys_are_reported(torch_layout):
    sd, _, _ = torch_layout
    config = config_from_motionbert(sd, num_heads=HEADS)
    broken = dict(sd)
    broken.pop("blocks_ts.1.mlp_t.fc2.bias")
    with pytest.raises(ValueError, match="missing \\['blocks_ts.1.mlp_t.fc2.bias'\\]"):
        convert_motionbert_state_dict(broken, config)
    broken = dict(sd, **{"norm.weight": np.ones(D + 1, np.float32)})
    with pytest.raises(ValueError, match="norm.weight.*expected shape"):
        convert_motionbert_state_dict(broken, config)
    with pytest.raises(ValueError, match="joints_embed"):
        motionbert_state_dict({"model_pos": {"foo": np.zeros(1)}})
    with pytest.raises(ValueError, match="not found"):
        load_motionbert("/nonexistent/best_epoch.bin")


def test_motionbert_preset_has_the_released_layout():
    config = LifterConfig()
    from lifting.convert_motionbert import _mapping

    mapping = _mapping(config)
    total = sum(int(np.prod(shape)) for _, shape, _ in mapping.values())
    assert total == 42_466_317
    assert mapping["temp_embed"][1] == (1, 243, 1, 512)

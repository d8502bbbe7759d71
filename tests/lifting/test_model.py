"""DSTformer: exact parameter counts, shapes for 17 and 133 joints, gradients, causality."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from lifting.config import CONFIGS, LifterConfig, config_from_dict, config_to_dict, get_config
from lifting.model import DSTformer, count_parameters, create_model, fuse_streams

# Eager NNX dispatch is slow (hundreds of small ops); run the model jitted.
forward = nnx.jit(lambda model, x: model(x))
forward_and_rep = nnx.jit(lambda model, x: (model(x), model.representation(x)))


def abstract_model(name: str, **overrides) -> DSTformer:
    config = get_config(name, **overrides)
    return nnx.eval_shape(lambda: DSTformer(config, rngs=nnx.Rngs(0)))


def test_motionbert_parameter_count_is_exact():
    # 42,466,317: MotionBERT's released full model at 17 joints (reference sheet section 4.1).
    assert count_parameters(abstract_model("motionbert")) == 42_466_317
    assert count_parameters(abstract_model("motionbert-lite")) == 16_001_549


def test_parameter_count_grows_only_by_the_joint_table():
    extra = count_parameters(abstract_model("motionbert", num_joints=133)) - 42_466_317
    assert extra == (133 - 17) * 512


@pytest.mark.parametrize("num_joints", [17, 133])
def test_forward_shapes(num_joints):
    model = create_model("tiny", num_joints=num_joints)
    t = 7 if num_joints == 17 else 1
    x = jax.random.normal(jax.random.key(1), (2, t, num_joints, 3))
    y, rep = forward_and_rep(model, x)
    assert y.shape == (2, t, num_joints, 3)
    assert np.all(np.isfinite(np.asarray(y)))
    assert rep.shape == (2, t, num_joints, model.config.dim_rep)
    assert np.all(np.abs(np.asarray(rep)) <= 1.0)  # tanh representation


def test_bad_inputs_raise_clear_errors():
    model = create_model("tiny")
    with pytest.raises(ValueError, match="17"):
        model(jnp.zeros((1, 5, 16, 3)))
    with pytest.raises(ValueError, match="maxlen"):
        model(jnp.zeros((1, 82, 17, 3)))
    with pytest.raises(ValueError, match="B, T, J, C"):
        model(jnp.zeros((5, 17, 3)))
    with pytest.raises(ValueError, match="in_channels|17, 3"):
        model(jnp.zeros((1, 5, 17, 2)))


def test_every_parameter_gets_a_gradient():
    model = create_model("tiny", rngs=3)
    x = jax.random.normal(jax.random.key(0), (2, 6, 17, 3))
    target = jax.random.normal(jax.random.key(1), (2, 6, 17, 3))

    def loss_fn(m):
        return jnp.mean((m(x) - target) ** 2)

    grads = nnx.jit(nnx.grad(loss_fn))(model)
    flat = grads.flat_state()
    assert len(flat) > 0
    for path, var in flat:
        assert float(jnp.abs(var.value).max()) > 0, f"no gradient for {path}"


def test_causal_config_ignores_future_frames():
    model = create_model("tiny", causal=True, rngs=5)
    x = np.asarray(jax.random.normal(jax.random.key(2), (1, 10, 17, 3)))
    x2 = x.copy()
    x2[:, 6:] += 1.0  # change only frames 6..9
    y, y2 = np.asarray(forward(model, x)), np.asarray(forward(model, x2))
    np.testing.assert_allclose(y[:, :6], y2[:, :6], atol=1e-6)
    assert np.abs(y[:, 6:] - y2[:, 6:]).max() > 1e-4
    # the non-causal model does look ahead
    model_nc = create_model("tiny", rngs=5)
    y_nc, y2_nc = np.asarray(forward(model_nc, x)), np.asarray(forward(model_nc, x2))
    assert np.abs(y_nc[:, :6] - y2_nc[:, :6]).max() > 1e-4


def test_fusion_starts_as_equal_mix():
    model = create_model("tiny")
    np.testing.assert_array_equal(np.asarray(model.ts_attn[0].kernel.value), 0.0)
    np.testing.assert_array_equal(np.asarray(model.ts_attn[0].bias.value), 0.5)


def test_stream_fusion_equals_softmax_over_the_concatenated_features():
    # MotionBERT: alpha = softmax(Linear(concat(x_st, x_ts))), x = x_st * a0 + x_ts * a1
    rng = np.random.default_rng(4)
    fuse = nnx.Linear(8, 2, rngs=nnx.Rngs(0))
    fuse.kernel.value = jnp.asarray(rng.normal(0, 0.5, (8, 2)), jnp.float32)
    fuse.bias.value = jnp.asarray([0.3, -0.2], jnp.float32)
    x_st, x_ts = (rng.normal(0, 2, (2, 5, 3, 4)).astype(np.float32) for _ in range(2))
    logits = np.concatenate([x_st, x_ts], -1) @ np.asarray(fuse.kernel.value) + [0.3, -0.2]
    alpha = np.exp(logits - logits.max(-1, keepdims=True))
    alpha /= alpha.sum(-1, keepdims=True)
    expected = x_st * alpha[..., :1] + x_ts * alpha[..., 1:]
    got = np.asarray(fuse_streams(fuse, jnp.asarray(x_st), jnp.asarray(x_ts)))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert alpha[..., 0].min() < 0.2 and alpha[..., 0].max() > 0.8  # both streams can win


def test_config_presets_and_validation():
    assert set(CONFIGS) >= {"motionbert", "motionbert-lite", "small", "tiny"}
    full = CONFIGS["motionbert"]
    assert (full.dim, full.depth, full.num_heads, full.mlp_ratio, full.dim_rep, full.maxlen) == (
        512,
        5,
        8,
        2,
        512,
        243,
    )
    with pytest.raises(ValueError, match="unknown lifter preset"):
        get_config("nope")
    with pytest.raises(ValueError, match="divisible"):
        LifterConfig(dim=30, num_heads=4)
    with pytest.raises(ValueError, match="positive int"):
        LifterConfig(depth=0)
    config = dataclasses.replace(full, meta={"input_norm": {"kind": "bbox"}})
    assert hash(config) == hash(full)  # meta does not take part in hashing
    assert config_from_dict(config_to_dict(config)).meta == {"input_norm": {"kind": "bbox"}}
    with pytest.raises(ValueError, match="unknown lifter config keys"):
        config_from_dict({"dim": 8, "bogus": 1})


def test_numpy_initialisation_matches_module_initialisers():
    # create_model's numpy init and DSTformer(rngs=...) give the same keys and distributions
    from lifting.checkpoint import state_dict

    fast = state_dict(create_model("small", rngs=1))
    assert fast["blocks_st.0.norm1_s.scale"].tolist() == [1.0] * 64
    assert fast["ts_attn.1.bias"].tolist() == [0.5, 0.5]
    kernel = fast["blocks_ts.1.mlp_t.fc1.kernel"]
    assert abs(kernel.std() - 0.0176) < 0.002  # std of N(0, 0.02) truncated at 2 sigma
    other = state_dict(create_model("small", rngs=2))
    assert not np.array_equal(other["head.kernel"], fast["head.kernel"])

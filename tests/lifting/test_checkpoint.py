"""Lifter checkpoints: safetensors + config JSON round trips and clear errors."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
from flax import nnx

from lifting.checkpoint import (
    load_checkpoint,
    load_state_dict,
    read_config,
    save_checkpoint,
    state_dict,
)
from lifting.model import create_model

forward = nnx.jit(lambda model, x: model(x))


@pytest.fixture(scope="module")
def tiny():
    return create_model("tiny", num_joints=133, rngs=7)


def test_round_trip_preserves_outputs_and_meta(tmp_path, tiny):
    save_checkpoint(tiny, tmp_path / "ckpt", meta={"input_norm": "bbox"})
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == [
        "config.json",
        "model.safetensors",
    ]
    loaded = load_checkpoint(tmp_path / "ckpt")
    assert loaded.config.meta == {"input_norm": "bbox"}
    assert loaded.config.num_joints == 133
    x = jax.random.normal(jax.random.key(0), (1, 4, 133, 3))
    np.testing.assert_array_equal(np.asarray(forward(loaded, x)), np.asarray(forward(tiny, x)))
    # a lone safetensors file carries its config in the metadata
    lone = tmp_path / "lone.safetensors"
    (tmp_path / "ckpt" / "model.safetensors").rename(lone)
    assert read_config(lone).num_joints == 133
    np.testing.assert_array_equal(
        np.asarray(forward(load_checkpoint(lone), x)), np.asarray(forward(tiny, x))
    )


def test_state_dict_keys_are_dotted_paths(tiny):
    sd = state_dict(tiny)
    assert "blocks_st.0.attn_s.qkv.kernel" in sd
    assert sd["temp_embed"].shape == (81, 32)
    assert sum(v.size for v in sd.values()) == sum(
        x.size for x in jax.tree_util.tree_leaves(nnx.state(tiny, nnx.Param))
    )


def test_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(ValueError, match="model.safetensors"):
        load_checkpoint(tmp_path)
    with pytest.raises(ValueError, match="nothing.safetensors"):
        load_checkpoint(tmp_path / "nothing.safetensors")


def test_malformed_files_raise_value_error(tmp_path, tiny):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "model.safetensors").write_bytes(b"not a safetensors file")
    (bad / "config.json").write_text(json.dumps({"name": "tiny", "dim": 32, "num_heads": 2}))
    with pytest.raises(ValueError, match="malformed safetensors"):
        load_checkpoint(bad)
    (bad / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="malformed lifter config"):
        read_config(bad)


def test_shape_and_key_mismatch_are_reported(tiny):
    other = create_model("tiny", num_joints=17)
    with pytest.raises(ValueError, match="pos_embed"):
        load_state_dict(other, state_dict(tiny))
    sd = state_dict(other)
    sd.pop("head.bias")
    sd["extra"] = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="missing \\['head.bias'\\].*unexpected \\['extra'\\]"):
        load_state_dict(other, sd)
    sd = state_dict(other)
    sd["head.bias"] = np.full(3, np.nan, np.float32)
    with pytest.raises(ValueError, match="NaN"):
        load_state_dict(other, sd)

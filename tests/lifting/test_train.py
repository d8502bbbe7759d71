"""Training: a tiny preset overfits one batch; resume reproduces an uninterrupted run."""

import dataclasses
import json

import numpy as np
import pytest
from flax import nnx

import lifting
from lifting.checkpoint import read_config, state_dict
from lifting.data import ClipData
from lifting.losses import LossWeights, lifter_loss
from lifting.train import TrainConfig, load_train_state, make_optimizer, train


def _data(n_clips=4, t=9, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 0.25, (1, 1, 17, 3))
    motion = (
        0.05
        * np.sin(np.linspace(0, 3, t))[None, :, None, None]
        * rng.normal(size=(n_clips, 1, 17, 3))
    )
    y = (base + motion).astype(np.float32)
    y -= y[..., :1, :]
    x = np.concatenate([y[..., :2] / 2.0, np.ones(y.shape[:-1] + (1,))], -1).astype(np.float32)
    return ClipData(x, y, np.zeros(n_clips, np.int64))


def test_losses_hand_values():
    import jax.numpy as jnp

    y = jnp.zeros((1, 2, 1, 3))
    p = jnp.array([[[[3.0, 4.0, 0.0]], [[3.0, 4.0, 0.0]]]])
    total, parts = lifter_loss(p, y, LossWeights(1.0, 0.0, 1.0))
    np.testing.assert_allclose(float(parts["mpjpe"]), 5.0)
    np.testing.assert_allclose(float(parts["velocity"]), 0.0)  # constant offset, no motion
    np.testing.assert_allclose(float(total), 5.0)
    # n_mpjpe: prediction = 2 * target -> optimal scale 0.5 -> zero
    y = jnp.ones((1, 2, 3, 3))
    np.testing.assert_allclose(float(lifter_loss(2 * y, y)[1]["n_mpjpe"]), 0.0, atol=1e-6)


# One optimizer setting and batch shape for every test here, so the jitted step compiles once.
CFG = TrainConfig(epochs=80, batch_size=4, lr=3e-3, lr_decay=1.0, flip_p=0.0, weight_decay=0.0)


def test_overfits_a_tiny_batch():
    data = _data()
    model = lifting.create_model("tiny", rngs=nnx.Rngs(0))
    cfg = CFG
    hist = train(model, data, cfg)
    first, last = hist[0]["mpjpe"], hist[-1]["mpjpe"]
    assert last < 0.2 * first, (first, last)  # ~8x drop measured


def test_resume_gives_identical_state(tmp_path):
    data = _data(n_clips=4, seed=1)
    cfg = dataclasses.replace(CFG, epochs=3, flip_p=0.5)
    meta = {"input_norm": "screen"}

    straight = lifting.create_model("tiny", rngs=nnx.Rngs(1))
    train(straight, data, cfg, run_dir=tmp_path / "a", meta=meta)

    resumed = lifting.create_model("tiny", rngs=nnx.Rngs(1))
    train(resumed, data, dataclasses.replace(cfg, epochs=2), run_dir=tmp_path / "b", meta=meta)
    fresh = lifting.create_model("tiny", rngs=nnx.Rngs(7))  # different init: must be overwritten
    hist = train(fresh, data, cfg, run_dir=tmp_path / "b", meta=meta, resume=True)
    assert [r["epoch"] for r in hist] == [3]

    a, b = state_dict(straight), state_dict(fresh)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    # optimizer state equal too
    oa = make_optimizer(lifting.create_model("tiny"), cfg, len(data))
    ob = make_optimizer(lifting.create_model("tiny"), cfg, len(data))
    assert load_train_state(tmp_path / "a/checkpoints/last", lifting.create_model("tiny"), oa) == 3
    load_train_state(tmp_path / "b/checkpoints/last", lifting.create_model("tiny"), ob)
    for (pa, va), (pb, vb) in zip(
        nnx.state(oa).flat_state(), nnx.state(ob).flat_state(), strict=True
    ):
        assert pa == pb
        np.testing.assert_array_equal(np.asarray(va.get_value()), np.asarray(vb.get_value()))
    # metrics.jsonl holds both epochs; the checkpoint carries the input normalisation
    lines = (tmp_path / "b/metrics.jsonl").read_text().splitlines()
    assert [json.loads(s)["epoch"] for s in lines] == [1, 2, 3]
    assert read_config(tmp_path / "b/checkpoints/last").meta["input_norm"] == "screen"


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="lr"):
        TrainConfig(lr=-1.0)
    model = lifting.create_model("tiny")
    empty = ClipData(
        np.zeros((0, 9, 17, 3), np.float32), np.zeros((0, 9, 17, 3), np.float32), np.zeros(0)
    )
    with pytest.raises(ValueError, match="at least one"):
        train(model, empty, TrainConfig(epochs=1))
    opt = make_optimizer(model, TrainConfig(), 4)
    with pytest.raises(ValueError, match="missing"):
        load_train_state(tmp_path, model, opt)

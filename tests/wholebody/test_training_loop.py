import dataclasses
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from wholebody.data.coco_wholebody import CocoWholeBodyDataset
from wholebody.data.synthetic import make_synthetic_dataset
from wholebody.data.transforms import NO_AUGMENT, AugmentConfig
from wholebody.models import create_model
from wholebody.training import TrainConfig, train
from wholebody.training.schedule import ema_momentum, ema_update, lr_at, param_groups
from wholebody.training.state import load_checkpoint, save_checkpoint

SIZE = (64, 64)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run far faster on one thread (no OpenMP contention on shared CPUs)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_model(seed=0):
    torch.manual_seed(seed)
    return create_model(
        "rtmpose-tiny-test", input_size=SIZE, gau_hidden_dims=32, gau_s=16, final_kernel_size=3
    )


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth_train")
    path = make_synthetic_dataset(root, num_images=2, seed=2, image_size=(128, 128), max_people=1,
                                  height_range=(90, 110))  # fmt: skip
    return path


def dataset(path, augment=NO_AUGMENT):
    cfg = tiny_model().config
    return CocoWholeBodyDataset(path, path.parent / "images", cfg.input_size, cfg.sigma,
                                augment=augment, cache_images=True)  # fmt: skip


def test_lr_schedule_shape():
    kw = dict(total_steps=100, base_lr=1.0, warmup_steps=10, cosine_start=0.5, min_lr_ratio=0.05)
    assert lr_at(0, **kw) == pytest.approx(0.001)
    assert lr_at(5, **kw) == pytest.approx(0.001 + 0.999 * 0.5)
    assert lr_at(10, **kw) == 1.0 and lr_at(49, **kw) == 1.0
    assert lr_at(75, **kw) == pytest.approx(0.05 + 0.95 * 0.5)
    assert lr_at(100, **kw) == pytest.approx(0.05)


def test_ema_and_param_groups():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    before = a.weight.detach().clone()
    ema_update(a, b, 0.25)
    torch.testing.assert_close(a.weight, 0.75 * before + 0.25 * b.weight.detach())
    assert ema_momentum(0) > 0.99 and ema_momentum(10**7) == pytest.approx(2e-4)
    groups = param_groups(a, 0.05)
    assert [len(g["params"]) for g in groups] == [1, 1] and groups[1]["weight_decay"] == 0.0


def test_checkpoint_round_trip(tmp_path):
    model = tiny_model()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(1, 3, 64, 64))[0].sum().backward()
    opt.step()
    save_checkpoint(tmp_path / "ck", model, model.config.to_dict(), opt, trainer_state={"step": 3})
    other = tiny_model(seed=1)
    opt2 = torch.optim.AdamW(other.parameters(), lr=1e-3)
    state = load_checkpoint(tmp_path / "ck", other, opt2)
    assert state["step"] == 3
    for p, q in zip(model.parameters(), other.parameters(), strict=True):
        assert torch.equal(p, q)
    s1, s2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    assert all(torch.equal(s1[k]["exp_avg_sq"], s2[k]["exp_avg_sq"]) for k in s1)
    assert json.loads((tmp_path / "ck" / "config.json").read_text())["input_size"] == [64, 64]
    with pytest.raises(ValueError, match="missing model.safetensors"):
        load_checkpoint(tmp_path, other)


def test_training_drives_loss_down(synth, tmp_path):
    model = tiny_model()
    losses = []
    cfg = TrainConfig(epochs=24, batch_size=2, lr=1e-2, warmup_steps=2, ema_momentum=1e-2,
                      log_every=8)  # fmt: skip
    train(model, dataset(synth), cfg, tmp_path / "run",
          callback=lambda i: losses.append(i["loss"]) if "lr" in i else None)  # fmt: skip
    assert len(losses) == 24
    assert np.mean(losses[-4:]) < 0.6 * np.mean(losses[:4])
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines if "lr" in x] == [8, 16, 24]
    assert [x["epoch_end"] for x in lines if "epoch_end" in x] == list(range(1, 25))
    assert (tmp_path / "run" / "checkpoints" / "final" / "model.safetensors").is_file()
    assert (tmp_path / "run" / "checkpoints" / "latest" / "optimizer.safetensors").is_file()


def test_resume_after_interruption_gives_the_same_state(synth, tmp_path):
    cfg = TrainConfig(epochs=2, batch_size=1, lr=5e-3, warmup_steps=1, ema_momentum=0.1)
    data = dataset(synth, augment=AugmentConfig())  # augmentation seeded per (epoch, index)
    straight = tiny_model()
    train(straight, data, cfg, tmp_path / "a")

    def stop_at_3(info):
        if info.get("step") == 3 and "lr" in info:
            raise KeyboardInterrupt

    broken = tiny_model()
    with pytest.raises(KeyboardInterrupt):
        train(broken, data, cfg, tmp_path / "b", callback=stop_at_3)
    resumed = tiny_model(seed=7)  # fresh process: different init, state comes from the checkpoint
    state = train(resumed, data, cfg, tmp_path / "b", resume=True)
    assert state["step"] == 4
    for p, q in zip(straight.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(p, q)
    fa = load_file(tmp_path / "a" / "checkpoints" / "final" / "model.safetensors")
    fb = load_file(tmp_path / "b" / "checkpoints" / "final" / "model.safetensors")
    assert all(torch.equal(fa[k], fb[k]) for k in fa)


def test_bad_training_input(synth, tmp_path):
    heat = create_model("heatmap-tiny-test")
    with pytest.raises(ValueError, match="needs a dataset built with heatmap_size"):
        train(heat, dataset(synth), TrainConfig(epochs=1), tmp_path / "h")
    empty = dataset(synth)
    empty.instances = []
    with pytest.raises(ValueError, match="no usable people"):
        train(tiny_model(), empty, TrainConfig(epochs=1), tmp_path / "e")


def test_worker_processes_give_the_same_batches(synth, tmp_path):
    cfg = TrainConfig(epochs=2, batch_size=1, lr=5e-3, warmup_steps=1, ema_momentum=None)
    data = dataset(synth, augment=AugmentConfig())
    a, b = tiny_model(), tiny_model()
    train(a, data, cfg, tmp_path / "a")
    train(b, data, dataclasses.replace(cfg, num_workers=1), tmp_path / "b")
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_heatmap_model_trains_and_predicts(synth, tmp_path):
    from wholebody.data.coco_wholebody import codec_kwargs
    from wholebody.training import predict_dataset

    torch.manual_seed(0)
    model = create_model("heatmap-tiny-test", input_size=SIZE, heatmap_deconv_channels=(16, 16))
    kw = codec_kwargs(model.config)
    assert kw["heatmap_size"] == (8, 8)
    data = CocoWholeBodyDataset(synth, synth.parent / "images", augment=NO_AUGMENT,
                                cache_images=True, **kw)  # fmt: skip
    assert data[0]["heatmaps"].shape == (133, 8, 8)
    losses = []
    cfg = TrainConfig(epochs=12, batch_size=2, lr=1e-2, warmup_steps=2, ema_momentum=None)
    train(model, data, cfg, tmp_path / "hm",
          callback=lambda i: losses.append(i["loss"]) if "lr" in i else None)  # fmt: skip
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3])
    val = CocoWholeBodyDataset(synth, synth.parent / "images", train=False, **kw)
    recs = predict_dataset(model, val, flip_test=True)
    assert len(recs) == len(val) and len(recs[0]["keypoints"]) == 51

"""Slow: a tiny model overfits a handful of rendered images to AP > 0.9 (own evaluator)."""

import pytest
import torch

from wholebody.data.coco_wholebody import CocoWholeBodyDataset
from wholebody.data.synthetic import make_synthetic_dataset
from wholebody.data.transforms import NO_AUGMENT
from wholebody.models import create_model
from wholebody.training import TrainConfig, evaluate_model, train


@pytest.mark.slow
def test_overfit_handful_of_images_to_high_ap(tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        path = make_synthetic_dataset(tmp_path / "data", num_images=4, seed=11,
                                      image_size=(192, 192), max_people=1,
                                      height_range=(120, 170))  # fmt: skip
        torch.manual_seed(0)
        model = create_model("rtmpose-tiny-test")
        kw = dict(input_size=model.config.input_size, sigma=model.config.sigma, cache_images=True)
        data = CocoWholeBodyDataset(path, path.parent / "images", augment=NO_AUGMENT, **kw)
        val = CocoWholeBodyDataset(path, path.parent / "images", train=False, **kw)
        cfg = TrainConfig(epochs=150, batch_size=4, lr=4e-3, warmup_steps=20, ema_momentum=None,
                          log_every=50)  # fmt: skip
        train(model, data, cfg, tmp_path / "run")
        metrics = evaluate_model(model, val, path)
    finally:
        torch.set_num_threads(threads)
    assert metrics["body/AP"] > 0.9
    assert metrics["wholebody/AP"] > 0.9

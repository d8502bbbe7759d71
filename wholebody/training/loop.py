"""Training loop for whole-body models: AdamW, warm-up + cosine, EMA, clipping, resume.

``train(model, dataset, config, run_dir)`` writes ``run_dir/metrics.jsonl`` and
``run_dir/checkpoints/{latest,final,best}/`` (``best``: highest ``best_metric`` evaluation).
The data order is a permutation seeded by ``(seed, epoch)`` and augmentation by
``(seed, epoch, index)``, so resuming from a checkpoint at any step replays exactly the
batches an uninterrupted run would have seen. A
``KeyboardInterrupt`` saves ``latest`` before propagating.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from wholebody.data.coco_wholebody import TENSOR_KEYS, collate
from wholebody.losses import KLDiscretLoss, keypoint_mse_loss
from wholebody.training.schedule import ema_momentum, ema_update, lr_at, param_groups
from wholebody.training.state import find_checkpoint, load_checkpoint, save_checkpoint

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (defaults: RTMPose whole-body recipe, scaled by the caller)."""

    epochs: int = 10
    batch_size: int = 32
    lr: float = 4e-3  # AdamW base learning rate
    weight_decay: float = 0.05  # not applied to norms and biases
    warmup_steps: int = 1000  # linear warm-up iterations
    cosine_start: float = 0.5  # fraction of training after which the cosine decay runs
    min_lr_ratio: float = 0.05  # final lr / base lr
    ema_momentum: float | None = 2e-4  # None: no EMA
    grad_clip: float | None = None  # max global grad norm (RTMW: 35)
    checkpoint_every: int = 0  # also save ``latest`` every N steps (0: at epoch ends only)
    log_every: int = 10  # steps between metrics.jsonl lines
    eval_every: int = 1  # epochs between evaluations (when an evaluate callable is given)
    best_metric: str = "wholebody/AP"  # evaluation key whose maximum is kept in checkpoints/best
    seed: int = 0
    num_workers: int = 0  # DataLoader worker processes (0: load in the training process)
    device: str = "cpu"  # torch device, e.g. "cuda"


def _batches(n: int, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    order = np.random.default_rng([seed, epoch]).permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def _iterate(dataset, batches: list[np.ndarray], num_workers: int):
    """Collated batches in the given order (worker processes when ``num_workers > 0``)."""
    if num_workers <= 0:
        for idx in batches:
            yield collate([dataset[int(i)] for i in idx])
        return
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_sampler=[[int(i) for i in idx] for idx in batches],
        collate_fn=collate,
        num_workers=num_workers,
    )
    yield from loader


def _append_jsonl(path: Path, record: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def train(
    model: nn.Module,
    dataset,
    config: TrainConfig,
    run_dir: str | Path,
    resume: bool = False,
    callback: Callable[[dict], None] | None = None,
    evaluate: Callable[[nn.Module], dict] | None = None,
) -> dict:
    """Train ``model`` (a ``PoseModel``) on ``dataset`` items (see ``CocoWholeBodyDataset``):
    KL loss for SimCC heads, heatmap MSE for heatmap heads (dataset with ``heatmap_size``).

    Args:
        resume: continue from ``run_dir/checkpoints/latest`` if it exists.
        callback: called with a dict (``step``, ``epoch``, ``loss``, ``lr``) after every step
            and with ``{"epoch_end": epoch, ...}`` after every epoch (progress bars).
        evaluate: called with the EMA (or raw) model every ``eval_every`` epochs; its dict is
            logged to metrics.jsonl.

    Returns:
        the last trainer state (``step``, ``epoch``, last ``loss`` and evaluation).
    """
    simcc = getattr(model, "is_simcc", True)
    if not simcc and getattr(dataset, "heatmap_size", None) is None:
        raise ValueError("train: a heatmap model needs a dataset built with heatmap_size")
    if len(dataset) == 0:
        raise ValueError("train: the dataset has no usable people")
    run_dir = Path(run_dir)
    ckpt_dir = run_dir / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = run_dir / "metrics.jsonl"
    model_cfg = model.config.to_dict() if hasattr(model, "config") else {}
    loss_fn = KLDiscretLoss.from_config(model.config)
    device = torch.device(config.device)
    model.to(device)
    optimizer = torch.optim.AdamW(param_groups(model, config.weight_decay), lr=config.lr)
    ema = copy.deepcopy(model).eval() if config.ema_momentum is not None else None
    if ema is not None:
        for p in ema.parameters():
            p.requires_grad_(False)
    steps_per_epoch = math.ceil(len(dataset) / config.batch_size)
    total = steps_per_epoch * config.epochs
    state = {"step": 0, "epoch": 0, "train_config": asdict(config)}
    if resume:
        found = find_checkpoint(ckpt_dir / "latest")
        if found is not None:
            state = load_checkpoint(found, model, optimizer, ema)
            state.pop("optimizer", None)
            state.pop("torch_rng", None)
            logger.info("resumed from %s at step %d", found, state["step"])

    def save(name: str = "latest") -> None:
        save_checkpoint(ckpt_dir / name, model, model_cfg, optimizer, ema, state)

    step = int(state["step"])
    model.train()
    try:
        while step < total:
            epoch, skip = divmod(step, steps_per_epoch)
            dataset.set_epoch(epoch)
            order = _batches(len(dataset), config.batch_size, config.seed, epoch)[skip:]
            t0 = time.perf_counter()
            for batch in _iterate(dataset, order, config.num_workers):
                batch = {k: v.to(device) if k in TENSOR_KEYS else v for k, v in batch.items()}
                lr = lr_at(step, total, config.lr, config.warmup_steps, 0.001,
                           config.cosine_start, config.min_lr_ratio)  # fmt: skip
                for group in optimizer.param_groups:
                    group["lr"] = lr
                if simcc:
                    pred_x, pred_y = model(batch["image"])
                    loss = loss_fn(
                        pred_x, pred_y, batch["target_x"], batch["target_y"], batch["weights"]
                    )
                else:
                    loss = keypoint_mse_loss(
                        model(batch["image"]), batch["heatmaps"], batch["weights"]
                    )
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"non-finite loss {loss.item()} at step {step}")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                max_norm = config.grad_clip if config.grad_clip is not None else float("inf")
                grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm))
                optimizer.step()
                if ema is not None:
                    ema_update(ema, model, ema_momentum(step, config.ema_momentum))
                step += 1
                loss_value = float(loss.detach())
                state.update(step=step, epoch=epoch, loss=loss_value)
                info = {"step": step, "epoch": epoch, "loss": loss_value, "lr": lr,
                        "grad_norm": grad_norm, "time": time.perf_counter() - t0}  # fmt: skip
                if step % config.log_every == 0 or step == total:
                    _append_jsonl(metrics_path, info)
                if callback is not None:
                    callback(info)
                t0 = time.perf_counter()
                if config.checkpoint_every and step % config.checkpoint_every == 0:
                    save()
            state["epoch"] = epoch + 1
            end = {"epoch_end": epoch + 1, "step": step, "loss": state.get("loss")}
            if evaluate is not None and (epoch + 1) % config.eval_every == 0:
                net = ema if ema is not None else model
                end["eval"] = evaluate(net)
                state["eval"] = end["eval"]
                model.train()
                value = end["eval"].get(config.best_metric)
                if value is not None and value > state.get("best", -float("inf")):
                    state["best"] = value
                    state["best_epoch"] = epoch + 1
                    save_checkpoint(ckpt_dir / "best", net, model_cfg, trainer_state=state)
            _append_jsonl(metrics_path, end)
            save()
            if callback is not None:
                callback(end)
    except KeyboardInterrupt:
        logger.warning("interrupted at step %d: saving checkpoints/latest", step)
        save()
        raise
    final = ema if ema is not None else model
    save_checkpoint(ckpt_dir / "final", final, model_cfg, trainer_state=state)
    return state

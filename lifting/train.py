"""Training loop for the lifter: jitted NNX step, AdamW, checkpoints, resume, metrics jsonl.

Run directory layout (``run_dir``)::

    metrics.jsonl             one JSON line per epoch (loss terms, validation MPJPE in mm)
    checkpoints/last/         config.json + model.safetensors (lifting.checkpoint format,
                              ``config.meta`` holds the input normalisation)
                              + train_state.safetensors (optimizer) + train_state.json (epoch)

Resume restores weights, optimizer state and epoch; each epoch's shuffling and flips come
from ``np.random.default_rng([seed, epoch])``, so a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from safetensors.numpy import load_file, save_file

from lifting.checkpoint import atomic_write, load_weights, save_checkpoint
from lifting.data.dataset import ClipData, root_relative
from lifting.inference import make_predictor
from lifting.losses import LossWeights, lifter_loss
from lifting.metrics import mpjpe, p_mpjpe

logger = logging.getLogger(__name__)

TRAIN_STATE_WEIGHTS = "train_state.safetensors"
TRAIN_STATE_JSON = "train_state.json"


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (defaults: MotionBERT's H36M recipe).

    Attributes:
        epochs: total epochs (a resumed run continues up to this number).
        batch_size: clips per step.
        lr: AdamW learning rate; decays by ``lr_decay`` every epoch.
        weight_decay: AdamW decoupled weight decay.
        lr_decay: multiplicative decay per epoch.
        loss: weights of MPJPE, N-MPJPE and velocity terms.
        flip_p: probability of a horizontal flip per training clip.
        grad_clip: global-norm clip, or None.
        seed: seeds shuffling and flips.
        eval_batch_size: clips per validation forward pass.
    """

    epochs: int = 60
    batch_size: int = 32
    lr: float = 2e-4
    weight_decay: float = 0.01
    lr_decay: float = 0.99
    loss: LossWeights = field(default_factory=LossWeights)
    flip_p: float = 0.5
    grad_clip: float | None = None
    seed: int = 0
    eval_batch_size: int = 64

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.eval_batch_size < 1:
            raise ValueError(
                f"TrainConfig: expected epochs, batch sizes >= 1, got {self.epochs}, "
                f"{self.batch_size}, {self.eval_batch_size}"
            )
        if not (self.lr > 0 and 0 < self.lr_decay <= 1 and 0 <= self.flip_p <= 1):
            raise ValueError(
                f"TrainConfig: expected lr > 0, 0 < lr_decay <= 1, 0 <= flip_p <= 1, got "
                f"{self.lr}, {self.lr_decay}, {self.flip_p}"
            )


def steps_per_epoch(num_clips: int, batch_size: int) -> int:
    """Full batches per epoch (one smaller batch when there are fewer clips than a batch)."""
    return max(1, num_clips // batch_size)


@functools.lru_cache(maxsize=16)
def _transform(
    lr: float, lr_decay: float, weight_decay: float, grad_clip: float | None, steps: int
) -> optax.GradientTransformation:
    # Cached: the transformation is static data of the optimizer, so reusing the same
    # object lets jitted steps of later `train` calls hit the compilation cache.
    schedule = optax.exponential_decay(
        lr, transition_steps=steps, decay_rate=lr_decay, staircase=True
    )
    tx = optax.adamw(schedule, weight_decay=weight_decay)
    if grad_clip is not None:
        tx = optax.chain(optax.clip_by_global_norm(grad_clip), tx)
    return tx


def make_optimizer(model: nnx.Module, config: TrainConfig, num_clips: int) -> nnx.Optimizer:
    """AdamW with a per-epoch staircase exponential decay (MotionBERT's ``lr *= 0.99``)."""
    steps = steps_per_epoch(num_clips, config.batch_size)
    tx = _transform(config.lr, config.lr_decay, config.weight_decay, config.grad_clip, steps)
    return nnx.Optimizer(model, tx, wrt=nnx.Param)


@functools.lru_cache(maxsize=8)
def make_train_step(weights: LossWeights | None = None):
    """A jitted ``step(model, optimizer, x, y) -> (loss, terms)`` updating both in place.

    Cached per loss weights so repeated `train` calls reuse the compiled step.
    """
    weights = LossWeights() if weights is None else weights

    def loss_fn(model, x, y):
        total, parts = lifter_loss(model(x), y, weights)
        return total, parts

    @nnx.jit
    def step(model, optimizer, x, y):
        (loss, parts), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model, x, y)
        optimizer.update(model, grads)
        return loss, parts

    return step


def evaluate_clips(model: nnx.Module, data: ClipData, batch_size: int = 64) -> dict[str, float]:
    """Protocol-1/2 errors in millimetres over all frames of the clips (root-relative)."""
    pred = root_relative(make_predictor(model, batch_size=batch_size)(data.inputs), data.kset)
    gt = root_relative(data.targets, data.kset)
    return {
        "mpjpe_mm": float(1000 * mpjpe(pred, gt).mean()),
        "p_mpjpe_mm": float(1000 * p_mpjpe(pred, gt).mean()),
    }


def _flat_key(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def save_train_state(
    directory: str | Path,
    model: nnx.Module,
    optimizer: nnx.Optimizer,
    epoch: int,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Checkpoint model (+ ``meta``), optimizer state and the number of finished epochs."""
    directory = Path(directory)
    save_checkpoint(model, directory, meta=meta)
    flat = nnx.state(optimizer).flat_state()
    tensors = {_flat_key(p): np.array(v.get_value(), order="C") for p, v in flat}
    atomic_write(directory / TRAIN_STATE_WEIGHTS, lambda tmp: save_file(tensors, tmp))
    info = json.dumps({"epoch": int(epoch)})
    atomic_write(directory / TRAIN_STATE_JSON, lambda tmp: Path(tmp).write_text(info + "\n"))
    return directory


def load_train_state(directory: str | Path, model: nnx.Module, optimizer: nnx.Optimizer) -> int:
    """Restore a `save_train_state` checkpoint in place; returns the finished epoch count."""
    directory = Path(directory)
    for name in (TRAIN_STATE_WEIGHTS, TRAIN_STATE_JSON):
        if not (directory / name).is_file():
            raise ValueError(f"resume: missing {directory / name} (not a training checkpoint)")
    load_weights(model, directory)
    tensors = load_file(str(directory / TRAIN_STATE_WEIGHTS))
    flat = nnx.state(optimizer).flat_state()
    keys = {_flat_key(p) for p, _ in flat}
    if keys != set(tensors):
        diff = sorted(keys ^ set(tensors))[:5]
        raise ValueError(f"resume: optimizer state keys differ from the checkpoint, e.g. {diff}")
    for path, var in flat:
        old = var.get_value()
        new = tensors[_flat_key(path)]
        if tuple(new.shape) != tuple(old.shape):
            raise ValueError(f"resume: {_flat_key(path)} expected {old.shape}, got {new.shape}")
        var.set_value(jnp.asarray(new, dtype=old.dtype))
    nnx.update(optimizer, nnx.State.from_flat_path(flat))
    return int(json.loads((directory / TRAIN_STATE_JSON).read_text())["epoch"])


def _append_jsonl(path: Path, record: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def train(
    model: nnx.Module,
    data: ClipData,
    config: TrainConfig = TrainConfig(),
    run_dir: str | Path | None = None,
    val_data: ClipData | None = None,
    meta: dict[str, Any] | None = None,
    resume: bool = False,
    callback: Callable[[dict], None] | None = None,
    val_fn: Callable[[nnx.Module], dict[str, float]] | None = None,
) -> list[dict]:
    """Train ``model`` in place on clip data; returns one record per epoch run now.

    Args:
        data: training clips (inputs already normalised, targets root-relative metres).
        run_dir: where ``metrics.jsonl`` and ``checkpoints/last`` go (None: nothing written).
        val_data: clips scored (MPJPE / P-MPJPE, mm) after every epoch.
        meta: stored in the checkpoint config (``input_norm`` etc.).
        resume: continue from ``run_dir/checkpoints/last`` if it exists.
        callback: called with ``{"epoch", "step", "loss", "steps_per_epoch"}`` after every
            step and with the epoch record (key ``"record"``) after every epoch.
        val_fn: custom validation ``model -> {name: value}`` merged into each epoch record
            (e.g. MotionBERT's protocol); runs in addition to ``val_data``.
    """
    if len(data) == 0:
        raise ValueError("train: expected at least one training clip, got none")
    optimizer = make_optimizer(model, config, len(data))
    step = make_train_step(config.loss)
    run_dir = Path(run_dir) if run_dir is not None else None
    ckpt = run_dir / "checkpoints" / "last" if run_dir is not None else None
    start = 0
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        if resume and (ckpt / TRAIN_STATE_JSON).is_file():
            start = load_train_state(ckpt, model, optimizer)
            logger.info("resumed from %s after epoch %d", ckpt, start)
    n_steps = steps_per_epoch(len(data), config.batch_size)
    drop_last = len(data) >= config.batch_size
    history = []
    for epoch in range(start, config.epochs):
        rng = np.random.default_rng([config.seed, epoch])
        tic = time.perf_counter()
        sums: dict[str, float] = {}
        count = 0
        for i, (x, y) in enumerate(data.batches(config.batch_size, rng, config.flip_p, drop_last)):
            loss, parts = step(model, optimizer, jnp.asarray(x), jnp.asarray(y))
            loss = float(loss)
            if not np.isfinite(loss):
                raise FloatingPointError(f"train: loss became {loss} at epoch {epoch} step {i}")
            for k, v in {"loss": loss, **{k: float(v) for k, v in parts.items()}}.items():
                sums[k] = sums.get(k, 0.0) + v
            count += 1
            if callback is not None:
                callback({"epoch": epoch, "step": i, "loss": loss, "steps_per_epoch": n_steps})
        record: dict[str, Any] = {"epoch": epoch + 1}
        record.update({k: v / count for k, v in sums.items()})
        record["seconds"] = time.perf_counter() - tic
        if val_data is not None:
            val = evaluate_clips(model, val_data, config.eval_batch_size)
            record.update({f"val_{k}": v for k, v in val.items()})
        if val_fn is not None:
            record.update(val_fn(model))
        history.append(record)
        if run_dir is not None:
            save_train_state(ckpt, model, optimizer, epoch + 1, meta)
            _append_jsonl(run_dir / "metrics.jsonl", record)
        if callback is not None:
            callback({"epoch": epoch, "record": record})
        logger.info("epoch %d: %s", epoch + 1, record)
    return history


def config_dict(config: TrainConfig) -> dict:
    """JSON-ready dict of a `TrainConfig`."""
    return asdict(config)


def train_config_from_dict(data: dict) -> TrainConfig:
    """Inverse of `config_dict`."""
    data = dict(data)
    if "loss" in data and isinstance(data["loss"], dict):
        data["loss"] = LossWeights(**data["loss"])
    return TrainConfig(**data)


__all__ = [
    "TrainConfig",
    "config_dict",
    "evaluate_clips",
    "load_train_state",
    "make_optimizer",
    "make_train_step",
    "save_train_state",
    "train",
    "train_config_from_dict",
]

"""Learning-rate schedule (linear warm-up, flat, cosine) and EMA of weights (pure functions)."""

from __future__ import annotations

import math

import torch
from torch import nn


def lr_at(
    step: int,
    total_steps: int,
    base_lr: float,
    warmup_steps: int = 1000,
    warmup_ratio: float = 0.001,
    cosine_start: float = 0.5,
    min_lr_ratio: float = 0.05,
) -> float:
    """Learning rate at ``step`` (0-based) of ``total_steps``.

    Linear warm-up from ``warmup_ratio * base_lr`` over ``warmup_steps``; flat until
    ``cosine_start * total_steps``; cosine to ``min_lr_ratio * base_lr`` at the end (RTMPose:
    warm-up 1000 iterations, cosine over the second half to 0.05 lr).
    """
    if step < warmup_steps:
        frac = step / max(warmup_steps, 1)
        factor = warmup_ratio + (1 - warmup_ratio) * frac
    else:
        factor = 1.0
    start = int(cosine_start * total_steps)
    if step >= start and total_steps > start:
        progress = min(1.0, (step - start) / max(total_steps - start, 1))
        cos = min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
        factor = min(factor, cos)
    return base_lr * factor


def ema_momentum(step: int, momentum: float = 2e-4, gamma: int = 2000) -> float:
    """MMDet ``ExpMomentumEMA`` momentum: large early, ``momentum`` in the limit."""
    return (1 - momentum) * math.exp(-float(1 + step) / gamma) + momentum


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, momentum: float) -> None:
    """``ema = (1 - momentum) * ema + momentum * model`` for parameters; buffers copied."""
    for e, p in zip(ema.parameters(), model.parameters(), strict=True):
        e.mul_(1 - momentum).add_(p.detach(), alpha=momentum)
    for e, b in zip(ema.buffers(), model.buffers(), strict=True):
        e.copy_(b)


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """AdamW groups: no weight decay on norms and biases (1-D parameters)."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]

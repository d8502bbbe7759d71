"""Training losses in JAX (MotionBERT recipe): MPJPE + 0.5 N-MPJPE + 20 velocity.

All take ``(B, T, J, 3)`` predictions and targets in the same unit (metres in this package)
and return scalars.

References:
    MotionBERT ``lib/model/loss.py`` (``loss_mpjpe``, ``n_mpjpe``, ``loss_velocity``).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms (MotionBERT's ``lambda_scale``, ``lambda_3d_velocity``)."""

    mpjpe: float = 1.0
    n_mpjpe: float = 0.5
    velocity: float = 20.0


def mpjpe_loss(pred, target):
    """Mean Euclidean joint distance."""
    return jnp.mean(jnp.linalg.norm(pred - target, axis=-1))


def n_mpjpe_loss(pred, target):
    """MPJPE after the per-frame optimal scale s = <p, g> / <p, p> (scale is not a free lunch)."""
    num = jnp.sum(pred * target, axis=(-2, -1), keepdims=True)
    den = jnp.sum(pred * pred, axis=(-2, -1), keepdims=True)
    scale = num / jnp.maximum(den, 1e-8)
    return mpjpe_loss(scale * pred, target)


def velocity_loss(pred, target):
    """Mean norm of the difference of first temporal differences (axis -3 is time)."""
    if pred.shape[-3] < 2:
        return jnp.zeros((), pred.dtype)
    dp = jnp.diff(pred, axis=-3)
    dt = jnp.diff(target, axis=-3)
    return jnp.mean(jnp.linalg.norm(dp - dt, axis=-1))


def lifter_loss(pred, target, weights: LossWeights = LossWeights()):
    """Weighted total and the individual terms ``{"mpjpe", "n_mpjpe", "velocity"}``."""
    parts = {
        "mpjpe": mpjpe_loss(pred, target),
        "n_mpjpe": n_mpjpe_loss(pred, target),
        "velocity": velocity_loss(pred, target),
    }
    total = (
        weights.mpjpe * parts["mpjpe"]
        + weights.n_mpjpe * parts["n_mpjpe"]
        + weights.velocity * parts["velocity"]
    )
    return total, parts

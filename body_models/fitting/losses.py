"""Data and temporal terms of the fitting objective (JAX, pure functions)."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def geman_mcclure(sq_residual: jax.Array, sigma: float) -> jax.Array:
    """ρ(r²) = σ² r² / (σ² + r²): ≈ r² for small residuals, saturates at σ² for outliers.

    References: Geman & McClure 1987; used by SMPLify / SMPLify-X for keypoint data terms.
    """
    s2 = sigma * sigma
    return s2 * sq_residual / (s2 + sq_residual)


def keypoint_data_term(
    pred: jax.Array, target: jax.Array, weight: jax.Array, sigma: float
) -> jax.Array:
    """``(T, K, 3)`` prediction and target, ``(T, K)`` weights -> ``(T,)`` robust weighted sum."""
    sq = jnp.sum(jnp.square(pred - target), axis=-1)
    return jnp.sum(weight * geman_mcclure(sq, sigma), axis=-1)


def reprojection_term(
    pred_cam: jax.Array,
    target_px: jax.Array,
    weight: jax.Array,
    K: jax.Array,
    sigma_px: float,
) -> jax.Array:
    """Pinhole reprojection: ``(T, K, 3)`` camera-frame points, ``(T, K, 2)`` pixels, ``(T, K)``
    weights, ``(3, 3)`` intrinsics -> ``(T,)`` robust sum of squared pixel errors / focal².

    u = fx x/z + cx, v = fy y/z + cy (points behind the camera are clamped to z = 1 cm).
    """
    z = jnp.maximum(pred_cam[..., 2], 1e-2)
    u = K[0, 0] * pred_cam[..., 0] / z + K[0, 2]
    v = K[1, 1] * pred_cam[..., 1] / z + K[1, 2]
    sq = (jnp.square(u - target_px[..., 0]) + jnp.square(v - target_px[..., 1])) / (K[0, 0] ** 2)
    return jnp.sum(weight * geman_mcclure(sq, sigma_px / K[0, 0]), axis=-1)


def velocity_term(x: jax.Array) -> jax.Array:
    """``(T, ...)`` -> scalar sum of squared first differences over time."""
    if x.shape[0] < 2:
        return jnp.zeros((), x.dtype)
    return jnp.sum(jnp.square(x[1:] - x[:-1]))


def acceleration_term(x: jax.Array) -> jax.Array:
    """``(T, ...)`` -> scalar sum of squared second differences over time."""
    if x.shape[0] < 3:
        return jnp.zeros((), x.dtype)
    return jnp.sum(jnp.square(x[2:] - 2.0 * x[1:-1] + x[:-2]))

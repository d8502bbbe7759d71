"""Transformer layers for the lifter: attention over a chosen token axis, MLP, block pair.

Layout everywhere is ``(B, T, J, D)``; attention runs over one axis (``TIME`` = 1 or
``JOINTS`` = 2) with every other axis treated as batch. Parameter names mirror MotionBERT's
DSTformer so the checkpoint converter is a rename plus transposes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

__all__ = ["JOINTS", "TIME", "Attention", "Block", "Mlp", "attention_weights", "linear_init"]

TIME = 1  # token axis of temporal attention in (B, T, J, D)
JOINTS = 2  # token axis of spatial attention in (B, T, J, D)

# MotionBERT initialises Linear weights with trunc_normal(std=0.02) and biases with zeros.
linear_init = nnx.initializers.truncated_normal(stddev=0.02)


def attention_weights(q_bnhk: jax.Array, k_bmhk: jax.Array, causal: bool) -> jax.Array:
    """Softmax attention weights ``(..., H, N, M)``; softmax in float32 for low-precision inputs.

    Args:
        q_bnhk: queries ``(..., N, H, K)``.
        k_bmhk: keys ``(..., M, H, K)``.
        causal: mask out keys later than the query (requires N == M).
    """
    scale = q_bnhk.shape[-1] ** -0.5
    logits = jnp.einsum("...nhk,...mhk->...hnm", q_bnhk * scale, k_bmhk)
    logits = logits.astype(jnp.float32)
    if causal:
        n, m = logits.shape[-2:]
        mask = jnp.tril(jnp.ones((n, m), dtype=bool))
        logits = jnp.where(mask, logits, jnp.finfo(jnp.float32).min)
    return jax.nn.softmax(logits, axis=-1).astype(q_bnhk.dtype)


class Attention(nnx.Module):
    """Multi-head self-attention over one token axis of ``(..., D)`` features.

    ``qkv`` produces ``3 * D`` channels laid out as ``(3, H, D / H)`` (q, k, v; head-major),
    matching MotionBERT's ``attn_s/attn_t`` modules.
    """

    def __init__(self, dim: int, num_heads: int, *, rngs: nnx.Rngs):
        self.num_heads = num_heads
        self.qkv = nnx.Linear(dim, 3 * dim, kernel_init=linear_init, rngs=rngs)
        self.proj = nnx.Linear(dim, dim, kernel_init=linear_init, rngs=rngs)

    def __call__(self, x: jax.Array, axis: int, causal: bool = False) -> jax.Array:
        """Attend over ``axis`` of ``x`` (every other axis except the last is batch)."""
        x_nd = jnp.swapaxes(x, axis, -2)  # (..., N, D) with N the token axis
        *lead, n, d = x_nd.shape
        qkv = self.qkv(x_nd).reshape(*lead, n, 3, self.num_heads, d // self.num_heads)
        q, k, v = qkv[..., 0, :, :], qkv[..., 1, :, :], qkv[..., 2, :, :]  # (..., N, H, K)
        weights = attention_weights(q, k, causal)  # (..., H, N, N)
        out = jnp.einsum("...hnm,...mhk->...nhk", weights, v).reshape(*lead, n, d)
        return jnp.swapaxes(self.proj(out), axis, -2)


class Mlp(nnx.Module):
    """Linear -> exact (erf) GELU -> Linear, as ``torch.nn.GELU()``."""

    def __init__(self, dim: int, hidden: int, *, rngs: nnx.Rngs):
        self.fc1 = nnx.Linear(dim, hidden, kernel_init=linear_init, rngs=rngs)
        self.fc2 = nnx.Linear(hidden, dim, kernel_init=linear_init, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.fc2(jax.nn.gelu(self.fc1(x), approximate=False))


class Block(nnx.Module):
    """Spatial and temporal pre-norm transformer sub-blocks applied in a fixed order.

    ``temporal_first=False`` is MotionBERT's ``blocks_st`` (space then time),
    ``True`` its ``blocks_ts``.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: int,
        *,
        temporal_first: bool,
        causal: bool = False,
        eps: float = 1e-6,
        rngs: nnx.Rngs,
    ):
        self.temporal_first = temporal_first
        self.causal = causal
        hidden = dim * mlp_ratio
        self.norm1_s = nnx.LayerNorm(dim, epsilon=eps, rngs=rngs)
        self.attn_s = Attention(dim, num_heads, rngs=rngs)
        self.norm2_s = nnx.LayerNorm(dim, epsilon=eps, rngs=rngs)
        self.mlp_s = Mlp(dim, hidden, rngs=rngs)
        self.norm1_t = nnx.LayerNorm(dim, epsilon=eps, rngs=rngs)
        self.attn_t = Attention(dim, num_heads, rngs=rngs)
        self.norm2_t = nnx.LayerNorm(dim, epsilon=eps, rngs=rngs)
        self.mlp_t = Mlp(dim, hidden, rngs=rngs)

    def spatial(self, x_btjd: jax.Array) -> jax.Array:
        x_btjd = x_btjd + self.attn_s(self.norm1_s(x_btjd), JOINTS)
        return x_btjd + self.mlp_s(self.norm2_s(x_btjd))

    def temporal(self, x_btjd: jax.Array) -> jax.Array:
        x_btjd = x_btjd + self.attn_t(self.norm1_t(x_btjd), TIME, self.causal)
        return x_btjd + self.mlp_t(self.norm2_t(x_btjd))

    def __call__(self, x_btjd: jax.Array) -> jax.Array:
        if self.temporal_first:
            return self.spatial(self.temporal(x_btjd))
        return self.temporal(self.spatial(x_btjd))

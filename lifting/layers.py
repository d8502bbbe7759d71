"""Transformer layers for the lifter: attention over a chosen token axis, MLP, block pair.

Layout everywhere is ``(B, T, J, D)``; attention runs over one axis (``TIME`` = 1 or
``JOINTS`` = 2) with every other axis treated as batch; q, k, v are laid out head-major
(``(B, other, H, tokens, K)``) by one transpose, the layout XLA's CPU dots run fastest on.
Parameter names mirror MotionBERT's DSTformer so the checkpoint converter is a rename plus
transposes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

__all__ = ["JOINTS", "TIME", "Attention", "Block", "Mlp", "attention", "gelu", "linear_init"]

TIME = 1  # token axis of temporal attention in (B, T, J, D)
JOINTS = 2  # token axis of spatial attention in (B, T, J, D)

# MotionBERT initialises Linear weights with trunc_normal(std=0.02) and biases with zeros.
linear_init = nnx.initializers.truncated_normal(stddev=0.02)


def attention(
    q: jax.Array, k: jax.Array, v: jax.Array, causal: bool, prescaled: bool = False
) -> jax.Array:
    """Softmax attention on head-major ``(..., N, K)`` queries, keys and values.

    Every leading axis is batch (heads included): XLA's CPU dot runs fast only when the batch
    axes lead and the contracted axis is minor, so callers lay heads out before tokens. The
    softmax is computed in float32 (also for low-precision inputs); its normalisation is applied
    to the ``(N, K)`` output instead of the ``(N, M)`` weights (XLA's CPU library fusions
    otherwise materialise broadcast constants of the logits' size).

    Args:
        q, k, v: ``(..., N, K)``, ``(..., M, K)``, ``(..., M, K)``.
        causal: mask out keys later than the query (requires N == M).
        prescaled: ``q`` already carries the ``1/sqrt(K)`` factor.
    """
    if not prescaled:
        q = q * jnp.asarray(q.shape[-1] ** -0.5, q.dtype)
    logits = jnp.einsum("...nk,...mk->...nm", q, k).astype(jnp.float32)
    if causal:
        n, m = logits.shape[-2:]
        mask = jnp.tril(jnp.ones((n, m), dtype=bool))
        logits = jnp.where(mask, logits, -jnp.inf)
    peak = jax.lax.stop_gradient(logits.max(axis=-1, keepdims=True))
    weights = jnp.exp(logits - peak)
    total = weights.sum(axis=-1, keepdims=True)
    out = jnp.einsum("...nm,...mk->...nk", weights.astype(v.dtype), v)
    return (out / total).astype(v.dtype)


def gelu(x: jax.Array) -> jax.Array:
    """Exact GELU ``x * (1 + erf(x / sqrt 2)) / 2``, written as ``torch.nn.GELU()`` computes it.

    ``jax.nn.gelu(approximate=False)`` evaluates an erfc form that costs ~2x more on CPU; the
    two differ by < 2e-6 absolute.
    """
    return 0.5 * x * (1.0 + jax.lax.erf(x * (2.0**-0.5)))


class Attention(nnx.Module):
    """Multi-head self-attention over one token axis of ``(B, T, J, D)`` features.

    ``qkv`` produces ``3 * D`` channels laid out as ``(3, H, D / H)`` (q, k, v; head-major),
    matching MotionBERT's ``attn_s/attn_t`` modules.
    """

    def __init__(self, dim: int, num_heads: int, *, rngs: nnx.Rngs):
        self.num_heads = num_heads
        self.qkv = nnx.Linear(dim, 3 * dim, kernel_init=linear_init, rngs=rngs)
        self.proj = nnx.Linear(dim, dim, kernel_init=linear_init, rngs=rngs)

    def __call__(self, x_btjd: jax.Array, axis: int, causal: bool = False) -> jax.Array:
        """Attend over ``axis`` (``TIME`` or ``JOINTS``) of ``x`` ``(B, T, J, D)``."""
        if axis not in (TIME, JOINTS):
            raise ValueError(
                f"attention axis must be TIME ({TIME}) or JOINTS ({JOINTS}), got {axis}"
            )
        b, t, j, d = x_btjd.shape
        h = self.num_heads
        qkv = self.qkv(x_btjd).reshape(b, t, j, 3, h, d // h)
        # one copy into (3, B, other, H, tokens, K): batch axes lead, channels minor
        order = (3, 0, 1, 4, 2, 5) if axis == JOINTS else (3, 0, 2, 4, 1, 5)
        q, k, v = jnp.transpose(qkv, order)
        # 1/sqrt(K) applied inside that copy (scaling the kernel instead costs a pass over the
        # weights on every call; inside the attention, XLA's YNN fusion materialised a
        # logits-sized broadcast of it)
        q = q * jnp.asarray((d // h) ** -0.5, q.dtype)
        out = attention(q, k, v, causal, prescaled=True)  # (B, other, H, tokens, K)
        back = (0, 1, 3, 2, 4) if axis == JOINTS else (0, 3, 1, 2, 4)  # -> (B, T, J, H, K)
        return self.proj(jnp.transpose(out, back).reshape(b, t, j, d))


class Mlp(nnx.Module):
    """Linear -> exact (erf) GELU -> Linear, as ``torch.nn.GELU()``."""

    def __init__(self, dim: int, hidden: int, *, rngs: nnx.Rngs):
        self.fc1 = nnx.Linear(dim, hidden, kernel_init=linear_init, rngs=rngs)
        self.fc2 = nnx.Linear(hidden, dim, kernel_init=linear_init, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.fc2(gelu(self.fc1(x)))


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

"""DSTformer (MotionBERT's dual-stream spatio-temporal transformer) in Flax NNX.

Input ``(B, T, J, 3)`` = normalised x, y and 2D confidence per joint; output ``(B, T, J, 3)``
root-relative 3D in the same normalised units. Any joint count (``config.num_joints``) and any
``T <= config.maxlen`` (the temporal table is sliced).

References:
    Zhu et al., "MotionBERT: A Unified Perspective on Learning Human Motion Representations",
    ICCV 2023 (architecture; Apache-2.0 reference code ``lib/model/DSTformer.py``).
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from lifting.config import LifterConfig, get_config
from lifting.layers import Block, linear_init

__all__ = ["DSTformer", "count_parameters", "create_model", "fuse_streams", "init_parameters"]


class DSTformer(nnx.Module):
    """Dual-stream (space->time and time->space) transformer with learned per-token fusion."""

    def __init__(self, config: LifterConfig, *, rngs: nnx.Rngs):
        self.config = config
        d = config.dim
        self.joints_embed = nnx.Linear(config.in_channels, d, kernel_init=linear_init, rngs=rngs)
        self.pos_embed = nnx.Param(linear_init(rngs.params(), (config.num_joints, d)))  # (J, D)
        self.temp_embed = nnx.Param(linear_init(rngs.params(), (config.maxlen, d)))  # (maxT, D)

        def block(temporal_first: bool) -> Block:
            return Block(
                d,
                config.num_heads,
                config.mlp_ratio,
                temporal_first=temporal_first,
                causal=config.causal,
                eps=config.layer_norm_eps,
                rngs=rngs,
            )

        self.blocks_st = nnx.List([block(False) for _ in range(config.depth)])
        self.blocks_ts = nnx.List([block(True) for _ in range(config.depth)])
        # Fusion logits per token from concat(x_st, x_ts); zero weights, bias 0.5 = equal mix.
        self.ts_attn = nnx.List(
            [
                nnx.Linear(
                    2 * d,
                    2,
                    kernel_init=nnx.initializers.zeros,
                    bias_init=nnx.initializers.constant(0.5),
                    rngs=rngs,
                )
                for _ in range(config.depth)
            ]
        )
        self.norm = nnx.LayerNorm(d, epsilon=config.layer_norm_eps, rngs=rngs)
        self.pre_logits = nnx.Linear(d, config.dim_rep, kernel_init=linear_init, rngs=rngs)
        self.head = nnx.Linear(
            config.dim_rep, config.out_channels, kernel_init=linear_init, rngs=rngs
        )

    def check_input(self, x: jax.Array) -> None:
        """ValueError unless ``x`` is ``(B, T, J, C)`` with this model's J, C and T <= maxlen."""
        cfg = self.config
        if x.ndim != 4:
            raise ValueError(f"expected input (B, T, J, C), got shape {tuple(x.shape)}")
        _, t, j, c = x.shape
        if j != cfg.num_joints or c != cfg.in_channels:
            raise ValueError(
                f"expected input (B, T, {cfg.num_joints}, {cfg.in_channels}), "
                f"got shape {tuple(x.shape)}"
            )
        if not 1 <= t <= cfg.maxlen:
            raise ValueError(f"expected 1 <= T <= maxlen={cfg.maxlen} frames, got T={t}")

    def representation(self, x_btjc: jax.Array) -> jax.Array:
        """Motion representation ``(B, T, J, dim_rep)`` (tanh of ``pre_logits``)."""
        self.check_input(x_btjc)
        t = x_btjc.shape[1]
        dtype = self.joints_embed.kernel.value.dtype
        x = self.joints_embed(x_btjc.astype(dtype))  # (B, T, J, D)
        x = x + self.pos_embed.value + self.temp_embed.value[:t, None, :]
        for block_st, block_ts, fuse in zip(self.blocks_st, self.blocks_ts, self.ts_attn):
            x = fuse_streams(fuse, block_st(x), block_ts(x))
        return jnp.tanh(self.pre_logits(self.norm(x)))

    def __call__(self, x_btjc: jax.Array) -> jax.Array:
        """3D joints ``(B, T, J, out_channels)`` from ``(B, T, J, in_channels)``."""
        return self.head(self.representation(x_btjc))


def fuse_streams(fuse: nnx.Linear, x_st: jax.Array, x_ts: jax.Array) -> jax.Array:
    """MotionBERT's per-token stream mix ``softmax(fuse([x_st, x_ts]))``-weighted sum.

    The 2-way softmax is written as a sigmoid of the logit difference and the concatenated
    features as two half-width products (no ``(..., 2D)`` copy): same maths, one pass less.
    """
    d = x_st.shape[-1]
    w, b = fuse.kernel.value, fuse.bias.value  # (2D, 2), (2,)
    dw = w[:, 0] - w[:, 1]
    alpha = jax.nn.sigmoid(x_st @ dw[:d] + x_ts @ dw[d:] + (b[0] - b[1]))[..., None]
    return x_ts + (x_st - x_ts) * alpha


def count_parameters(model: nnx.Module) -> int:
    """Number of scalar parameters (works on abstract models from ``nnx.eval_shape``)."""
    leaves = jax.tree_util.tree_leaves(nnx.state(model, nnx.Param))
    return int(sum(leaf.size for leaf in leaves))


def init_parameters(model: DSTformer, seed: int = 0) -> dict[str, np.ndarray]:
    """MotionBERT's initialisation drawn with numpy, keyed like ``checkpoint.state_dict``.

    Same distributions as the module initialisers (truncated normal std 0.02 for Linear kernels
    and the positional tables, zero biases, unit LayerNorm scales, fusion weights 0 / biases
    0.5) without compiling one XLA kernel per parameter shape, which costs ~0.5 s each on CPU.
    Works on abstract models (``nnx.eval_shape``).
    """
    rng = np.random.default_rng(seed)
    params = {}
    for path, var in nnx.state(model, nnx.Param).flat_state():
        key, shape = ".".join(str(p) for p in path), tuple(var.value.shape)
        if path[0] == "ts_attn":
            value = np.zeros(shape) if path[-1] == "kernel" else np.full(shape, 0.5)
        elif path[-1] == "bias":
            value = np.zeros(shape)
        elif path[-1] == "scale":
            value = np.ones(shape)
        else:  # Linear kernels, pos_embed, temp_embed
            value = np.clip(rng.standard_normal(shape), -2.0, 2.0) * 0.02
        params[key] = value.astype(np.float32)
    return params


def create_model(
    name_or_config: str | LifterConfig,
    *,
    num_joints: int | None = None,
    rngs: nnx.Rngs | int | None = None,
    weights: str | Path | None = None,
    **overrides,
) -> DSTformer:
    """Build a lifter from a preset name or config.

    Args:
        name_or_config: preset (``motionbert``, ``motionbert-lite``, ``small``, ``tiny``) or a
            :class:`LifterConfig`.
        num_joints: J; ``None`` keeps the config's value (17 for every preset).
        rngs: ``nnx.Rngs`` (initialised by the module initialisers, slow on CPU: one XLA
            compile per parameter shape) or an int seed / ``None`` (= 0) for the fast numpy
            initialisation of :func:`init_parameters` (same distributions).
        weights: optional checkpoint (directory or ``.safetensors`` file, see
            :mod:`lifting.checkpoint`) loaded into the model; shapes must match exactly.
        **overrides: other :class:`LifterConfig` fields to replace (``None`` values ignored).
    """
    from lifting.checkpoint import load_state_dict, load_weights

    config = get_config(name_or_config, num_joints=num_joints, **overrides)
    if isinstance(rngs, nnx.Rngs):
        model = DSTformer(config, rngs=rngs)
    else:
        model = nnx.eval_shape(lambda: DSTformer(config, rngs=nnx.Rngs(0)))
        if weights is None:
            load_state_dict(model, init_parameters(model, 0 if rngs is None else int(rngs)))
    if weights is not None:
        load_weights(model, weights)
    return model

"""A plain PyTorch (eager) DSTformer, used only as the benchmark peer of the JAX lifter.

Same architecture and parameter layout as :mod:`lifting.model`; :func:`from_lifting_state`
loads the JAX model's ``{dotted path: ndarray}`` weights so both run on identical weights.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, causal: bool = False) -> torch.Tensor:
        """x ``(B', N, D)``: attention over N."""
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)  # (B', H, N, K)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, ratio, temporal_first: bool, causal: bool, eps: float):
        super().__init__()
        self.temporal_first, self.causal = temporal_first, causal
        for name in ("norm1_s", "norm2_s", "norm1_t", "norm2_t"):
            setattr(self, name, nn.LayerNorm(dim, eps=eps))
        self.attn_s, self.attn_t = Attention(dim, heads), Attention(dim, heads)
        self.mlp_s, self.mlp_t = Mlp(dim, dim * ratio), Mlp(dim, dim * ratio)

    def spatial(self, x):  # (B, T, J, D)
        b, t, j, d = x.shape
        x = x + self.attn_s(self.norm1_s(x).reshape(b * t, j, d)).reshape(b, t, j, d)
        return x + self.mlp_s(self.norm2_s(x))

    def temporal(self, x):
        b, t, j, d = x.shape
        y = self.norm1_t(x).transpose(1, 2).reshape(b * j, t, d)
        x = x + self.attn_t(y, self.causal).reshape(b, j, t, d).transpose(1, 2)
        return x + self.mlp_t(self.norm2_t(x))

    def forward(self, x):
        if self.temporal_first:
            return self.spatial(self.temporal(x))
        return self.temporal(self.spatial(x))


class TorchDSTformer(nn.Module):
    """Eager DSTformer taking a :class:`lifting.config.LifterConfig`."""

    def __init__(self, config):
        super().__init__()
        c, d = config, config.dim
        self.joints_embed = nn.Linear(c.in_channels, d)
        self.pos_embed = nn.Parameter(torch.zeros(c.num_joints, d))
        self.temp_embed = nn.Parameter(torch.zeros(c.maxlen, d))
        args = (d, c.num_heads, c.mlp_ratio)
        kw = {"causal": c.causal, "eps": c.layer_norm_eps}
        self.blocks_st = nn.ModuleList([Block(*args, False, **kw) for _ in range(c.depth)])
        self.blocks_ts = nn.ModuleList([Block(*args, True, **kw) for _ in range(c.depth)])
        self.ts_attn = nn.ModuleList([nn.Linear(2 * d, 2) for _ in range(c.depth)])
        self.norm = nn.LayerNorm(d, eps=c.layer_norm_eps)
        self.pre_logits = nn.Linear(d, c.dim_rep)
        self.head = nn.Linear(c.dim_rep, c.out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[1]
        x = self.joints_embed(x) + self.pos_embed + self.temp_embed[:t, None]
        for block_st, block_ts, fuse in zip(self.blocks_st, self.blocks_ts, self.ts_attn):
            x_st, x_ts = block_st(x), block_ts(x)
            alpha = fuse(torch.cat([x_st, x_ts], dim=-1)).softmax(dim=-1)
            x = x_st * alpha[..., 0:1] + x_ts * alpha[..., 1:2]
        return self.head(torch.tanh(self.pre_logits(self.norm(x))))


def from_lifting_state(config, params: dict[str, np.ndarray]) -> TorchDSTformer:
    """A :class:`TorchDSTformer` holding the weights of ``lifting.checkpoint.state_dict``."""
    model = TorchDSTformer(config)
    state = {}
    for key, value in params.items():
        name, _, leaf = key.rpartition(".")
        if leaf == "kernel":
            state[f"{name}.weight"] = torch.from_numpy(np.ascontiguousarray(value.T))
        elif leaf == "scale":
            state[f"{name}.weight"] = torch.from_numpy(np.array(value))
        else:
            state[key] = torch.from_numpy(np.array(value))
    model.load_state_dict(state, strict=True)
    return model.eval()

"""Gated attention unit (GAU, "RTMCCBlock") and ScaleNorm with MMPose parameter names.

References:
    Hua et al., "Transformer Quality in Linear Time" (GAU), arXiv 2202.10447.
    Nguyen & Salazar, "Transformers without Tears" (ScaleNorm), arXiv 1910.05895.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class ScaleNorm(nn.Module):
    """x / (||x||_2 / sqrt(dim)) * g over the last axis; one learnable scalar ``g``."""

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.scale = dim**-0.5
        self.eps = eps
        self.g = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True) * self.scale
        return x / norm.clamp(min=self.eps) * self.g


class Scale(nn.Module):
    """Learnable per-channel scale (the residual branch scale of the GAU)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


class GAU(nn.Module):
    """Self-attention GAU over tokens (B, K, D) -> (B, K, D_out).

    ScaleNorm -> Linear(D -> 2e + s) -> act -> split u, v, base; q, k = base * gamma + beta;
    kernel = relu(q k^T / sqrt(s))^2; out = Linear(u * (kernel v)); residual with ``res_scale``
    when D == D_out. Relative position bias and RoPE are off in every released whole-body
    config and are not implemented.
    """

    def __init__(
        self,
        in_dims: int,
        out_dims: int,
        expansion_factor: int = 2,
        s: int = 128,
        act: str = "silu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.s = s
        self.e = int(in_dims * expansion_factor)
        self.ln = ScaleNorm(in_dims)
        self.uv = nn.Linear(in_dims, 2 * self.e + s, bias=False)
        self.gamma = nn.Parameter(torch.rand(2, s))
        self.beta = nn.Parameter(torch.rand(2, s))
        self.o = nn.Linear(self.e, out_dims, bias=False)
        self.act_fn = nn.SiLU() if act == "silu" else nn.ReLU()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.shortcut = in_dims == out_dims
        self.res_scale = Scale(in_dims) if self.shortcut else None
        self.sqrt_s = math.sqrt(s)
        nn.init.xavier_uniform_(self.uv.weight)

    def _attend(self, x: torch.Tensor) -> torch.Tensor:
        uv = self.act_fn(self.uv(self.ln(x)))  # (B, K, 2e + s)
        u, v, base = torch.split(uv, [self.e, self.e, self.s], dim=-1)
        base = base.unsqueeze(2) * self.gamma + self.beta  # (B, K, 2, s)
        q, k = base.unbind(dim=2)
        kernel = torch.square(torch.relu(q @ k.transpose(1, 2) / self.sqrt_s))  # (B, K, K)
        return self.o(u * (self.dropout(kernel) @ v))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self._attend(x)
        return self.res_scale(x) + out if self.shortcut else out

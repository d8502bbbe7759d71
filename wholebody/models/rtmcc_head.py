"""RTMCC SimCC head (RTMPose / DWPose) with MMPose parameter names."""

from __future__ import annotations

import torch
from torch import nn

from wholebody.models.gau import GAU, ScaleNorm


class RTMCCHead(nn.Module):
    """Large-kernel conv to K maps -> flatten -> ScaleNorm + Linear -> GAU -> cls_x / cls_y.

    Args:
        in_channels: channels of the stride-32 feature map.
        num_keypoints: K.
        input_size: model input (w, h) in pixels.
        featuremap_size: (w, h) of the feature map (input / 32).
        split_ratio: SimCC bins per pixel.
        kernel_size: final conv kernel (7 in all released configs).
        hidden_dims, s, expansion_factor: GAU sizes (256, 128, 2).
    """

    def __init__(
        self,
        in_channels: int,
        num_keypoints: int,
        input_size: tuple[int, int],
        featuremap_size: tuple[int, int],
        split_ratio: float = 2.0,
        kernel_size: int = 7,
        hidden_dims: int = 256,
        s: int = 128,
        expansion_factor: int = 2,
    ) -> None:
        super().__init__()
        flatten = featuremap_size[0] * featuremap_size[1]
        self.final_layer = nn.Conv2d(
            in_channels, num_keypoints, kernel_size, padding=kernel_size // 2
        )
        self.mlp = nn.Sequential(ScaleNorm(flatten), nn.Linear(flatten, hidden_dims, bias=False))
        self.gau = GAU(hidden_dims, hidden_dims, expansion_factor, s)
        self.cls_x = nn.Linear(hidden_dims, int(input_size[0] * split_ratio), bias=False)
        self.cls_y = nn.Linear(hidden_dims, int(input_size[1] * split_ratio), bias=False)
        init_head(self)

    def forward(self, feats: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.final_layer(feats[-1]).flatten(2)  # (B, K, h*w)
        x = self.gau(self.mlp(x))  # (B, K, hidden)
        return self.cls_x(x), self.cls_y(x)


def init_head(head: nn.Module) -> None:
    """MMPose head init: Normal(0.001) convs, Normal(0.01) linears, zero biases (GAU uv kept)."""
    for name, m in head.named_modules():
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, std=0.001)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear) and not name.endswith("gau.uv"):
            nn.init.normal_(m.weight, std=0.01)
            if m.bias is not None:
                nn.init.zeros_(m.bias)

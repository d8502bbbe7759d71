"""RTMW two-scale SimCC head ("hierarchical encoding") with MMPose parameter names."""

from __future__ import annotations

import torch
from torch import nn

from wholebody.models.gau import GAU, ScaleNorm
from wholebody.models.layers import ConvModule
from wholebody.models.rtmcc_head import init_head


class RTMWHead(nn.Module):
    """Stride-32 branch and a pixel-shuffled stride-16 branch, each to K tokens of D/2, then GAU.

    Args:
        in_channels: channels C of the stride-32 map (the stride-16 map has C/2).
        num_keypoints: K.
        input_size: model input (w, h).
        featuremap_size: (w, h) of the stride-32 map.
        split_ratio, kernel_size, hidden_dims, s, expansion_factor: as ``RTMCCHead``.
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
        ps = 2
        self.ps = nn.PixelShuffle(ps)
        self.conv_dec = ConvModule(in_channels // ps**2, in_channels // 4, kernel_size, act="relu")
        self.final_layer = ConvModule(in_channels, num_keypoints, kernel_size, act="relu")
        self.final_layer2 = ConvModule(
            in_channels // ps + in_channels // 4, num_keypoints, kernel_size, act="relu"
        )
        self.mlp = nn.Sequential(
            ScaleNorm(flatten), nn.Linear(flatten, hidden_dims // 2, bias=False)
        )
        self.mlp2 = nn.Sequential(
            ScaleNorm(flatten * ps**2), nn.Linear(flatten * ps**2, hidden_dims // 2, bias=False)
        )
        self.gau = GAU(hidden_dims, hidden_dims, expansion_factor, s)
        self.cls_x = nn.Linear(hidden_dims, int(input_size[0] * split_ratio), bias=False)
        self.cls_y = nn.Linear(hidden_dims, int(input_size[1] * split_ratio), bias=False)
        init_head(self)

    def forward(self, feats: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        enc_b, enc_t = feats  # (B, C/2, 2h, 2w), (B, C, h, w)
        tokens_t = self.mlp(self.final_layer(enc_t).flatten(2))  # (B, K, D/2)
        dec_t = self.conv_dec(self.ps(enc_t))  # (B, C/4, 2h, 2w)
        enc_b = torch.cat([dec_t, enc_b], dim=1)
        tokens_b = self.mlp2(self.final_layer2(enc_b).flatten(2))  # (B, K, D/2)
        x = self.gau(torch.cat([tokens_t, tokens_b], dim=2))
        return self.cls_x(x), self.cls_y(x)

"""Heatmap head (SimpleBaseline-style deconvolutions), MMPose ``HeatmapHead`` parameter names."""

from __future__ import annotations

import torch
from torch import nn


class HeatmapHead(nn.Module):
    """Deconv (4x4, stride 2, no bias) + BN + ReLU blocks, then a 1x1 conv to K heatmaps.

    Keys: ``deconv_layers.{3i}.weight`` (ConvTranspose2d), ``deconv_layers.{3i+1}.*`` (BN),
    ``final_layer.{weight,bias}``.
    """

    def __init__(
        self,
        in_channels: int,
        num_keypoints: int,
        deconv_out_channels: tuple[int, ...] = (256, 256, 256),
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = in_channels
        for cout in deconv_out_channels:
            layers += [
                nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(),
            ]
            cin = cout
        self.deconv_layers = nn.Sequential(*layers)
        self.final_layer = nn.Conv2d(cin, num_keypoints, 1)
        for m in self.modules():
            if isinstance(m, nn.ConvTranspose2d | nn.Conv2d):
                nn.init.normal_(m.weight, std=0.001)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, feats: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return self.final_layer(self.deconv_layers(feats[-1]))  # (B, K, h, w)

"""Shared building blocks named as MMPose/mmcv name them (``conv``/``bn``, ``depthwise_conv``...).

Attribute names mirror mmcv's ``ConvModule`` and ``DepthwiseSeparableConvModule`` so that state
dicts of released MMPose checkpoints load without renaming.
"""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {"silu": nn.SiLU, "relu": nn.ReLU, "none": nn.Identity}


class ConvModule(nn.Module):
    """Conv2d (no bias) -> BatchNorm2d -> activation; keys ``conv.weight``, ``bn.*``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int | None = None,
        groups: int = 1,
        act: str = "silu",
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ) -> None:
        super().__init__()
        padding = kernel_size // 2 if padding is None else padding
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride, padding, groups=groups, bias=False
        )
        self.bn = nn.BatchNorm2d(out_channels, eps=bn_eps, momentum=bn_momentum)
        self.activate = ACTIVATIONS[act]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activate(self.bn(self.conv(x)))


class DepthwiseSeparableConvModule(nn.Module):
    """Depthwise k x k ConvModule then pointwise 1 x 1 ConvModule (mmcv layout)."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1
    ) -> None:
        super().__init__()
        self.depthwise_conv = ConvModule(
            in_channels, in_channels, kernel_size, stride, groups=in_channels
        )
        self.pointwise_conv = ConvModule(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise_conv(self.depthwise_conv(x))


class ChannelAttention(nn.Module):
    """Global average pool -> 1x1 conv (with bias) -> hard sigmoid -> channel gate."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Conv2d(channels, channels, 1, bias=True)
        self.act = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.act(self.fc(self.global_avgpool(x)))


class CSPNeXtBlock(nn.Module):
    """3x3 ConvModule then 5x5 depthwise-separable conv, optional identity."""

    def __init__(self, in_channels: int, out_channels: int, add_identity: bool) -> None:
        super().__init__()
        self.conv1 = ConvModule(in_channels, out_channels, 3)
        self.conv2 = DepthwiseSeparableConvModule(out_channels, out_channels, 5)
        self.add_identity = add_identity and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.conv1(x))
        return out + x if self.add_identity else out


class CSPLayer(nn.Module):
    """Cross-stage-partial layer: main path through blocks, short path, concat, 1x1 fuse."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_blocks: int,
        add_identity: bool = True,
        expand_ratio: float = 0.5,
        channel_attention: bool = False,
    ) -> None:
        super().__init__()
        mid = int(out_channels * expand_ratio)
        self.main_conv = ConvModule(in_channels, mid, 1)
        self.short_conv = ConvModule(in_channels, mid, 1)
        self.final_conv = ConvModule(2 * mid, out_channels, 1)
        self.blocks = nn.Sequential(
            *[CSPNeXtBlock(mid, mid, add_identity) for _ in range(num_blocks)]
        )
        self.attention = ChannelAttention(2 * mid) if channel_attention else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat((self.blocks(self.main_conv(x)), self.short_conv(x)), dim=1)
        if self.attention is not None:
            out = self.attention(out)
        return self.final_conv(out)


class SPPBottleneck(nn.Module):
    """1x1 reduce, max-pools (5, 9, 13) concatenated with the input, 1x1 fuse."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_sizes: tuple[int, ...] = (5, 9, 13)
    ) -> None:
        super().__init__()
        mid = in_channels // 2
        self.conv1 = ConvModule(in_channels, mid, 1)
        self.poolings = nn.ModuleList(
            [nn.MaxPool2d(k, stride=1, padding=k // 2) for k in kernel_sizes]
        )
        self.conv2 = ConvModule(mid * (len(kernel_sizes) + 1), out_channels, 1)

        ks = list(kernel_sizes)
        # (k, 2k-1, 3k-2, ...) windows equal repeated k x k pooling (SPPF), exactly: cheaper
        self.cascade = all(b == a + ks[0] - 1 for a, b in zip(ks, ks[1:], strict=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        if self.cascade:
            outs = [x]
            for _ in self.poolings:
                outs.append(self.poolings[0](outs[-1]))
            return self.conv2(torch.cat(outs, dim=1))
        return self.conv2(torch.cat([x] + [pool(x) for pool in self.poolings], dim=1))

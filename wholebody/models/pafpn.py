"""CSPNeXtPAFPN neck (RTMW): top-down then bottom-up path aggregation, MMPose parameter names."""

from __future__ import annotations

import torch
from torch import nn

from wholebody.models.layers import ConvModule, CSPLayer


class CSPNeXtPAFPN(nn.Module):
    """Path aggregation over backbone features at strides (8, 16, 32).

    Args:
        in_channels: channels per input scale, fine to coarse.
        out_indices: which aggregated scales to return (RTMW: (1, 2) = strides 16, 32).
        num_csp_blocks: blocks per CSP layer.
        expand_ratio: hidden-channel ratio of the CSP layers.

    ``out_channels=None`` as in RTMW: outputs keep ``in_channels`` (no out convs).
    """

    def __init__(
        self,
        in_channels: tuple[int, ...],
        out_indices: tuple[int, ...] = (1, 2),
        num_csp_blocks: int = 2,
        expand_ratio: float = 0.5,
    ) -> None:
        super().__init__()
        self.in_channels = tuple(in_channels)
        self.out_indices = tuple(out_indices)
        n = len(in_channels)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.reduce_layers = nn.ModuleList()
        self.top_down_blocks = nn.ModuleList()
        for idx in range(n - 1, 0, -1):
            self.reduce_layers.append(ConvModule(in_channels[idx], in_channels[idx - 1], 1))
            self.top_down_blocks.append(
                CSPLayer(
                    in_channels[idx - 1] * 2,
                    in_channels[idx - 1],
                    num_csp_blocks,
                    add_identity=False,
                    expand_ratio=expand_ratio,
                )
            )
        self.downsamples = nn.ModuleList()
        self.bottom_up_blocks = nn.ModuleList()
        for idx in range(n - 1):
            self.downsamples.append(ConvModule(in_channels[idx], in_channels[idx], 3, stride=2))
            self.bottom_up_blocks.append(
                CSPLayer(
                    in_channels[idx] * 2,
                    in_channels[idx + 1],
                    num_csp_blocks,
                    add_identity=False,
                    expand_ratio=expand_ratio,
                )
            )

    def forward(self, inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        n = len(self.in_channels)
        if len(inputs) != n:
            raise ValueError(f"expected {n} feature maps, got {len(inputs)}")
        inner = [inputs[-1]]
        for idx in range(n - 1, 0, -1):
            high = self.reduce_layers[n - 1 - idx](inner[0])
            inner[0] = high
            merged = torch.cat([self.upsample(high), inputs[idx - 1]], dim=1)
            inner.insert(0, self.top_down_blocks[n - 1 - idx](merged))
        outs = [inner[0]]
        for idx in range(n - 1):
            down = self.downsamples[idx](outs[-1])
            outs.append(self.bottom_up_blocks[idx](torch.cat([down, inner[idx + 1]], dim=1)))
        return tuple(outs[i] for i in self.out_indices)

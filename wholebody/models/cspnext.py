"""CSPNeXt backbone (RTMDet/RTMPose), P5 arch, parameter names as MMPose/mmdet ``CSPNeXt``."""

from __future__ import annotations

import torch
from torch import nn

from wholebody.models.layers import ConvModule, CSPLayer, SPPBottleneck

# P5 stages: (in_channels, out_channels, num_blocks, add_identity, use_spp) before scaling
P5_STAGES = (
    (64, 128, 3, True, False),
    (128, 256, 6, True, False),
    (256, 512, 6, True, False),
    (512, 1024, 3, False, True),
)


def stage_channels(widen_factor: float) -> tuple[int, ...]:
    """Output channels of stem and stages 1-4 for a width factor (MMPose rounding)."""
    return (int(P5_STAGES[0][0] * widen_factor),) + tuple(
        int(out * widen_factor) for _, out, *_ in P5_STAGES
    )


class CSPNeXt(nn.Module):
    """CSPNeXt P5: stem (3 convs, stride 2) and four CSP stages (strides 4, 8, 16, 32).

    Args:
        deepen_factor: block-count multiplier (t 0.167, s 0.33, m 0.67, l 1.0, x 1.33).
        widen_factor: channel multiplier (t 0.375, s 0.5, m 0.75, l 1.0, x 1.25).
        out_indices: which of (stem, stage1..stage4) = (0..4) to return.
        expand_ratio: hidden-channel ratio of the CSP layers.
        channel_attention: channel gate inside every CSP layer.
    """

    def __init__(
        self,
        deepen_factor: float = 1.0,
        widen_factor: float = 1.0,
        out_indices: tuple[int, ...] = (4,),
        expand_ratio: float = 0.5,
        channel_attention: bool = True,
    ) -> None:
        super().__init__()
        if not set(out_indices) <= set(range(5)):
            raise ValueError(f"out_indices must be within 0..4, got {out_indices}")
        self.out_indices = tuple(out_indices)
        stem_out = int(P5_STAGES[0][0] * widen_factor)
        stem_mid = int(P5_STAGES[0][0] * widen_factor // 2)
        self.stem = nn.Sequential(
            ConvModule(3, stem_mid, 3, stride=2),
            ConvModule(stem_mid, stem_mid, 3),
            ConvModule(stem_mid, stem_out, 3),
        )
        self.layers = ["stem"]
        for i, (cin, cout, blocks, identity, use_spp) in enumerate(P5_STAGES):
            cin, cout = int(cin * widen_factor), int(cout * widen_factor)
            n = max(round(blocks * deepen_factor), 1)
            stage: list[nn.Module] = [ConvModule(cin, cout, 3, stride=2)]
            if use_spp:
                stage.append(SPPBottleneck(cout, cout))
            stage.append(
                CSPLayer(
                    cout,
                    cout,
                    n,
                    add_identity=identity,
                    expand_ratio=expand_ratio,
                    channel_attention=channel_attention,
                )
            )
            self.add_module(f"stage{i + 1}", nn.Sequential(*stage))
            self.layers.append(f"stage{i + 1}")

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        outs = []
        for i, name in enumerate(self.layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

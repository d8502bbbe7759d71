"""Top-down pose model: backbone -> (neck) -> head; keys ``backbone.*``, ``neck.*``, ``head.*``."""

from __future__ import annotations

import torch
from torch import nn

from wholebody.models.config import ModelConfig
from wholebody.models.cspnext import CSPNeXt, stage_channels
from wholebody.models.heatmap_head import HeatmapHead
from wholebody.models.pafpn import CSPNeXtPAFPN
from wholebody.models.rtmcc_head import RTMCCHead
from wholebody.models.rtmw_head import RTMWHead


class PoseModel(nn.Module):
    """Whole-body top-down model.

    ``forward(images (B, 3, H, W) normalised)`` returns ``(simcc_x (B, K, Wx), simcc_y (B, K, Wy))``
    for SimCC heads and ``heatmaps (B, K, h, w)`` for the heatmap head.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        w, h = config.input_size
        if w % 32 or h % 32:
            raise ValueError(f"input_size must be multiples of 32, got {config.input_size}")
        chans = stage_channels(config.widen_factor)
        common = dict(
            num_keypoints=config.num_keypoints,
            input_size=config.input_size,
            featuremap_size=config.featuremap_size,
            split_ratio=config.simcc_split_ratio,
            kernel_size=config.final_kernel_size,
            hidden_dims=config.gau_hidden_dims,
            s=config.gau_s,
            expansion_factor=config.gau_expansion,
        )
        self.neck = None
        if config.head == "rtmw":
            self.backbone = CSPNeXt(config.deepen_factor, config.widen_factor, (2, 3, 4))
            self.neck = CSPNeXtPAFPN(chans[2:], (1, 2), config.neck_csp_blocks)
            self.head = RTMWHead(chans[4], **common)
        elif config.head == "rtmcc":
            self.backbone = CSPNeXt(config.deepen_factor, config.widen_factor, (4,))
            self.head = RTMCCHead(chans[4], **common)
        elif config.head == "heatmap":
            self.backbone = CSPNeXt(config.deepen_factor, config.widen_factor, (4,))
            self.head = HeatmapHead(chans[4], config.num_keypoints, config.heatmap_deconv_channels)
        else:
            raise ValueError(f"head must be 'rtmcc', 'rtmw' or 'heatmap', got {config.head!r}")

    @property
    def is_simcc(self) -> bool:
        return self.config.head in ("rtmcc", "rtmw")

    def forward(self, images: torch.Tensor):
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"images: expected (B, 3, H, W), got {tuple(images.shape)}")
        w, h = self.config.input_size
        if images.shape[2:] != (h, w):
            raise ValueError(f"images: expected H, W = {(h, w)}, got {tuple(images.shape[2:])}")
        feats = self.backbone(images)
        if self.neck is not None:
            feats = self.neck(feats)
        return self.head(feats)


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (buffers excluded)."""
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, batches) -> nn.Module:
    """Reset BatchNorm running statistics to exact averages over ``batches`` (iterable of
    (B, 3, H, W) tensors); returns the model in eval mode. Useful after surgery on weights, and
    to make randomly initialised models input-sensitive in tests."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average
    model.train()
    for batch in batches:
        model(batch)
    for m, momentum in zip(norms, saved, strict=True):
        m.momentum = momentum
    return model.eval()


def count_macs(config: ModelConfig) -> float:
    """Multiply-accumulates for one crop (convolutions and matmuls; the "GFLOPs" of MMPose
    tables), counted on the meta device (no memory, no compute)."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        model = PoseModel(config).eval()
        w, h = config.input_size
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model(torch.zeros(1, 3, h, w))
    return counter.get_total_flops() / 2  # FlopCounterMode counts 2 FLOPs per MAC

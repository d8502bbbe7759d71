"""Pre-packed oneDNN convolutions with fused activations: the fast CPU inference path.

Eager PyTorch on CPU re-orders every convolution weight into oneDNN's blocked layout on every
call, sends 1x1 and small convolutions at batch 1 to a slower im2col path, and runs SiLU as a
separate pass over memory. ONNX Runtime avoids all three (pre-packed weights, one blocked
kernel family, fused activations). ``pack_convolutions`` does the same in PyTorch with the
public ``torch.ops.mkldnn`` operators that ``torch.compile``'s CPU backend emits: each
``Conv2d`` (+ folded BatchNorm + SiLU/ReLU) becomes one ``_convolution_pointwise`` call on a
weight packed once per input spatial size (the packed layout does not depend on the batch
size). Numerics: the same fp32 oneDNN kernels as eager channels-last convolutions (relative
differences ~1e-6).

Inference only (no autograd through packed weights); any input that is not a CPU float32
tensor, or a PyTorch build without oneDNN, runs the plain ``conv2d`` + activation.
"""

from __future__ import annotations

import copy
import logging

import torch
from torch import nn

from wholebody.models.layers import ConvModule

logger = logging.getLogger(__name__)

# activation module type -> oneDNN post-op name (as torch.compile's CPU backend names them)
POST_OPS = {nn.SiLU: "swish", nn.ReLU: "relu", nn.Identity: "none"}


def packed_conv_available() -> bool:
    """True when this PyTorch build has oneDNN and the pointwise-fused convolution operator."""
    if not torch.backends.mkldnn.is_available():
        return False
    ops = torch.ops.mkldnn
    try:
        return bool(ops._convolution_pointwise and ops._reorder_convolution_weight)
    except (AttributeError, RuntimeError):
        return False


class PackedConv2d(nn.Module):
    """``act(conv2d(x, weight, bias))`` with the weight pre-packed for oneDNN.

    Args:
        conv: the (BatchNorm-folded) convolution; its weight and bias are shared, not copied.
        act: ``nn.SiLU``, ``nn.ReLU`` or ``nn.Identity``.
    """

    def __init__(self, conv: nn.Conv2d, act: nn.Module | None = None) -> None:
        super().__init__()
        act = nn.Identity() if act is None else act
        if type(act) not in POST_OPS:
            raise ValueError(f"act: expected one of {[t.__name__ for t in POST_OPS]}, got {act}")
        if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            raise ValueError(f"conv: expected numeric zero padding, got {conv.padding!r}")
        self.conv = conv
        self.act = act
        self.post_op = POST_OPS[type(act)]
        self.args = (list(conv.padding), list(conv.stride), list(conv.dilation), conv.groups)
        self._packed: dict[tuple[int, ...], torch.Tensor] = {}

    def packed_weight(self, chw: tuple[int, ...]) -> torch.Tensor:
        """The weight in oneDNN's layout for inputs (*, C, H, W) (cached per (C, H, W))."""
        w = self._packed.get(chw)
        if w is None:
            padding, stride, dilation, groups = self.args
            w = torch.ops.mkldnn._reorder_convolution_weight(
                self.conv.weight.detach(), padding, stride, dilation, groups, [1, *chw]
            )
            self._packed[chw] = w
        return w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or x.dtype != torch.float32 or torch.is_grad_enabled():
            return self.act(self.conv(x))
        padding, stride, dilation, groups = self.args
        bias = None if self.conv.bias is None else self.conv.bias.detach()
        w = self.packed_weight(tuple(x.shape[1:]))
        return torch.ops.mkldnn._convolution_pointwise(
            x, w, bias, padding, stride, dilation, groups, self.post_op, [], ""
        )


@torch.no_grad()
def pack_convolutions(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose BatchNorm-folded ``ConvModule``s (conv + SiLU/ReLU) and plain
    ``Conv2d``s run as ``PackedConv2d``. Fold BatchNorms first (``fuse_conv_bn``): a
    ``ConvModule`` that still holds one gets only its conv packed. Inference only."""
    packed = copy.deepcopy(model).eval()
    count = 0

    def convert(parent: nn.Module) -> None:
        nonlocal count
        for name, child in parent.named_children():
            if (
                isinstance(child, ConvModule)
                and isinstance(child.bn, nn.Identity)
                and type(child.activate) in POST_OPS
            ):
                setattr(parent, name, PackedConv2d(child.conv, child.activate))
                count += 1
            elif (
                type(child) is nn.Conv2d
                and child.padding_mode == "zeros"
                and not isinstance(child.padding, str)
            ):
                setattr(parent, name, PackedConv2d(child))
                count += 1
            else:
                convert(child)

    convert(packed)
    logger.debug("packed %d convolutions for oneDNN", count)
    return packed

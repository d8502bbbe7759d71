"""Pre-packed oneDNN convolutions with fused activations: the fast CPU inference path.

Eager PyTorch on CPU re-orders every convolution weight into oneDNN's blocked layout on every
call, sends 1x1 and small convolutions at batch 1 to a slower im2col path, and runs SiLU as a
separate pass over memory. ONNX Runtime avoids all three (pre-packed weights, one blocked
kernel family, fused activations). ``pack_convolutions`` does the same in PyTorch with the
``torch.ops.mkldnn`` operators that ``torch.compile``'s CPU backend emits (underscore-named,
so not a stable API: without them ``packed_conv_available()`` is False and the backend runs
eager convolutions). Each ``Conv2d`` (+ folded BatchNorm + SiLU/ReLU) becomes one
``_convolution_pointwise`` call on a weight packed once per input spatial size (the packed
layout does not depend on the batch size). Numerics: the same fp32 oneDNN kernels as eager
channels-last convolutions (per-layer differences ~1e-6 relative).

Inference only (no autograd through packed weights); any input that is not a CPU float32
tensor, a TorchScript / ONNX trace, or a PyTorch build without oneDNN runs the plain
``conv2d`` + activation.
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


def _op(name: str):
    """``torch.ops.mkldnn.<name>.default`` (resolved once: calls skip the overload lookup)."""
    try:
        return getattr(torch.ops.mkldnn, name).default
    except (AttributeError, RuntimeError):
        return None


_CONV_POINTWISE = _op("_convolution_pointwise")
_REORDER = _op("_reorder_convolution_weight")


def packed_conv_available() -> bool:
    """True when this PyTorch build has oneDNN and the pointwise-fused convolution operator."""
    return (
        torch.backends.mkldnn.is_available()
        and _CONV_POINTWISE is not None
        and _REORDER is not None
    )


class PackedConv2d(nn.Module):
    """``act(conv2d(x, weight, bias))`` with the weight pre-packed for oneDNN.

    The weight is packed on the first call for each input (C, H, W) and cached; call
    ``reset()`` after changing the conv's weights or moving it. Inputs with a 1x1 spatial size
    (the channel-attention gates) run the plain conv: there the fixed cost of a oneDNN call
    (~45 us) exceeds the work.

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
        self.padding, self.stride = list(conv.padding), list(conv.stride)
        self.dilation, self.groups = list(conv.dilation), conv.groups
        self.reset()

    def reset(self) -> None:
        """Drop the packed weights (re-packed from the conv on the next call)."""
        self._packed: dict[torch.Size, torch.Tensor | None] = {}
        bias = self.conv.bias
        self._bias = None if bias is None else bias.detach()

    def packed_weight(self, chw: torch.Size) -> torch.Tensor | None:
        """The weight in oneDNN's layout for inputs (*, C, H, W) (cached per (C, H, W));
        None where the plain conv runs (1x1 spatial inputs)."""
        if chw not in self._packed:
            w = None
            if chw[-1] * chw[-2] > 1:
                w = _REORDER(
                    self.conv.weight.detach(),
                    self.padding,
                    self.stride,
                    self.dilation,
                    self.groups,
                    [1, *chw],
                )
            self._packed[chw] = w
        return self._packed[chw]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (
            x.dtype is torch.float32
            and x.device.type == "cpu"
            and not torch.is_grad_enabled()
            and not torch.jit.is_tracing()  # traces (ONNX export, oneDNN Graph) see conv2d
        ):
            w = self._packed.get(x.shape[1:], False)
            if w is False:
                w = self.packed_weight(x.shape[1:])
            if w is not None:
                return _CONV_POINTWISE(
                    x,
                    w,
                    self._bias,
                    self.padding,
                    self.stride,
                    self.dilation,
                    self.groups,
                    self.post_op,
                    [],
                    "",
                )
        return self.act(self.conv(x))


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

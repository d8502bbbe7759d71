"""Pose-model backends with one contract: ``backend(batch (B, 3, H, W) float32) -> outputs``.

``TorchBackend`` wraps a ``PoseModel``; ``OrtBackend`` (in ``ort_backend``) runs an ONNX file.
Both expose ``input_size`` (w, h), ``split_ratio`` and ``max_batch`` (None = any).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from wholebody.inference.onednn_graph import GraphCompiled, onednn_graph_available
from wholebody.inference.packed import pack_convolutions, packed_conv_available
from wholebody.models import PoseModel
from wholebody.models.layers import ConvModule


@torch.no_grad()
def fuse_conv_bn(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every ``ConvModule``'s BatchNorm folded into its conv (inference
    only; as ONNX Runtime does): w' = w * g / sqrt(v + eps), b' = beta - mean * g / sqrt(v + eps).
    """
    fused = copy.deepcopy(model).eval()
    for m in fused.modules():
        if isinstance(m, ConvModule) and isinstance(m.bn, nn.BatchNorm2d):
            conv, bn = m.conv, m.bn
            k = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            new = nn.Conv2d(
                conv.in_channels,
                conv.out_channels,
                conv.kernel_size,
                conv.stride,
                conv.padding,
                conv.dilation,
                conv.groups,
                bias=True,
            )
            new.weight.copy_(conv.weight * k[:, None, None, None])
            new.bias.copy_(bn.bias - bn.running_mean * k)
            m.conv, m.bn = new, nn.Identity()
    return fused


class TorchBackend:
    """PyTorch backend: inference mode, eval, numpy in and out.

    Args:
        model: the pose model (left untouched; the backend works on a copy).
        device: torch device.
        fuse: fold BatchNorm into the convs (as ONNX Runtime does).
        channels_last: NHWC activations (fewer layout reorders in oneDNN / cuDNN convs).
        packed: run convs as pre-packed oneDNN kernels with fused SiLU/ReLU
            (``wholebody.inference.packed``; needs ``fuse``). None = on for CPU when the
            PyTorch build has oneDNN. On a 2-core AVX2 CPU this is what brings the torch path
            to ONNX Runtime's speed (eager re-packs every weight on every call).
        chunk: largest batch per forward; bigger batches run in chunks (outputs concatenated).
            0 = no chunking; None = 8 on CPU (activations then stay in reused heap memory
            instead of fresh, page-faulting allocations: ~10 % faster at 32 crops), 0 elsewhere.
        graph: run the backbone and neck of batches up to ``graph_max_batch`` as oneDNN Graph
            compiled partitions (``wholebody.inference.onednn_graph``; needs ``packed``): no
            per-convolution set-up cost, residual adds fused. None = on with ``packed`` when
            the PyTorch build has the TorchScript oneDNN Graph fuser. Each new input shape
            compiles once on first use (~1-3 s); a failure logs a warning and runs the
            packed convolutions.
        graph_max_batch: largest (chunk) batch size that runs compiled; 1 by default: the
            per-call set-up it removes matters at batch 1 (measured on a 2-core AVX2 EPYC:
            backbone + neck 5-15 % faster for RTMPose-m and RTMW-l) and ~1 % at 8.
    """

    def __init__(
        self,
        model: PoseModel,
        device: str | torch.device = "cpu",
        fuse: bool = True,
        channels_last: bool = True,
        packed: bool | None = None,
        chunk: int | None = None,
        graph: bool | None = None,
        graph_max_batch: int = 1,
    ) -> None:
        model = model.eval()
        self.device = torch.device(device)
        if packed is None:
            packed = fuse and self.device.type == "cpu" and packed_conv_available()
        if packed and not fuse:
            raise ValueError("packed=True needs fuse=True (BatchNorm folded into the convs)")
        if packed and not packed_conv_available():
            raise ValueError("packed=True needs a PyTorch build with oneDNN (mkldnn)")
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        net = (fuse_conv_bn(model) if fuse else model).to(self.device)
        if channels_last:
            net = net.to(memory_format=torch.channels_last)
        self.model = pack_convolutions(net) if packed else net  # packs on first use per size
        self.packed = bool(packed)
        if graph is None:
            graph = self.packed and onednn_graph_available()
        if graph and not self.packed:
            raise ValueError("graph=True needs packed=True (packed oneDNN convolutions)")
        if graph_max_batch < 1:
            raise ValueError(f"graph_max_batch must be >= 1, got {graph_max_batch}")
        self.graph = bool(graph)
        self.features = None  # backbone (+ neck), compiled for small batches
        if self.graph:
            stages = ConvStages(self.model.backbone, self.model.neck)
            self.features = GraphCompiled(stages, max_batch=graph_max_batch)
        if chunk is None:
            chunk = 8 if self.device.type == "cpu" else 0
        if chunk < 0:
            raise ValueError(f"chunk must be >= 0 (0 = no chunking, None = default), got {chunk}")
        self.chunk = chunk or None
        self.config = model.config
        self.input_size = tuple(model.config.input_size)
        self.split_ratio = model.config.simcc_split_ratio
        self.is_simcc = model.is_simcc
        self.max_batch = None

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, ...]:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        k = self.chunk
        if k is None or len(batch) <= k:
            return self._forward(batch)
        parts = [self._forward(batch[i : i + k]) for i in range(0, len(batch), k)]
        return tuple(np.concatenate([p[j] for p in parts]) for j in range(len(parts[0])))

    def _forward(self, batch: np.ndarray) -> tuple[np.ndarray, ...]:
        with torch.inference_mode():
            x = torch.from_numpy(batch).to(self.device)
            x = x.contiguous(memory_format=self.memory_format)
            if self.features is None or len(x) > self.features.max_batch:
                out = self.model(x)
            else:
                check_input(x, self.input_size)
                out = self.model.head(self.features(x))
        out = out if isinstance(out, tuple) else (out,)
        return tuple(o.float().cpu().numpy() for o in out)


class ConvStages(nn.Module):
    """A ``PoseModel``'s backbone and neck as one module: images -> head input features."""

    def __init__(self, backbone: nn.Module, neck: nn.Module | None) -> None:
        super().__init__()
        self.backbone = backbone
        self.neck = neck

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        feats = self.backbone(x)
        return self.neck(feats) if self.neck is not None else feats


def check_input(x: torch.Tensor, input_size: tuple[int, int]) -> None:
    """ValueError unless ``x`` is (B, 3, H, W) with (W, H) = ``input_size`` (as ``PoseModel``)."""
    w, h = input_size
    if x.ndim != 4 or tuple(x.shape[1:]) != (3, h, w):
        raise ValueError(f"images: expected (B, 3, {h}, {w}), got {tuple(x.shape)}")

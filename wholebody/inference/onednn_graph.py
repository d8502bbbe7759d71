"""oneDNN Graph compiled convolution stages: the small-batch CPU fast path.

At batch 1 a CSPNeXt backbone is ~60 convolutions of 0.1-5 ms each, and every
``torch.ops.mkldnn._convolution_pointwise`` call (``wholebody.inference.packed``) rebuilds its
oneDNN primitive descriptor: ~45-60 us of CPU per call on a 2-core AVX2 EPYC (a 1x1 conv on
a 2x2 map; an add costs ~2 us), plus a separate pass for every residual add. ONNX Runtime
builds its kernels once per session. oneDNN Graph ("LLGA", the TorchScript fuser that
ships with PyTorch's CPU builds) does the same: it compiles fused partitions (conv + bias +
SiLU + residual add, chains of convs) once per input shape and then runs them without
per-call set-up. Same oneDNN kernels (brgconv / brdgmm on AVX2), so numerics match the packed
path (float32 error vs a float64 reference of the same order as eager's).

``GraphCompiled`` wraps a module (here the backbone and neck of a ``PoseModel`` whose convs
are ``PackedConv2d``): inputs with batch size <= ``max_batch`` run a TorchScript trace of it,
frozen and compiled by oneDNN Graph (one per input shape, built on first use: ~1-3 s for
RTMPose-m / RTMW-l); every other input, autograd, non-float32 or non-CPU tensors, and any
failure to build (logged once, e.g. a PyTorch without TorchScript or without the fuser) run
the module itself. TorchScript is deprecated in PyTorch 2.x; its deprecation warnings are
silenced inside the build only.
"""

from __future__ import annotations

import logging
import warnings

import torch
from torch import nn

logger = logging.getLogger(__name__)

FUSION_GROUP = "prim::oneDNNFusionGroup"
WARMUP_RUNS = 2  # the profiling executor records shapes on run 1 and fuses on run 2


def onednn_graph_available() -> bool:
    """True when this PyTorch build has oneDNN and the TorchScript oneDNN Graph fuser."""
    jit = getattr(torch, "jit", None)
    return (
        torch.backends.mkldnn.is_available()
        and hasattr(jit, "enable_onednn_fusion")
        and hasattr(jit, "trace")
        and hasattr(jit, "freeze")
        and hasattr(torch._C, "_jit_llga_enabled")
    )


class GraphCompiled(nn.Module):
    """``module(x)``, run as a oneDNN Graph compiled TorchScript trace for small batches.

    Args:
        module: the module to run (inference; its outputs: tensors or tuples of tensors).
        max_batch: largest batch size that runs compiled (each distinct input shape compiles
            once on first use); 0 disables compilation.
    """

    def __init__(self, module: nn.Module, max_batch: int = 1) -> None:
        super().__init__()
        if max_batch < 0:
            raise ValueError(f"max_batch must be >= 0, got {max_batch}")
        self.module = module
        self.max_batch = max_batch
        self._compiled: dict[tuple, torch.jit.ScriptModule | None] = {}
        self._failed = False

    def forward(self, x: torch.Tensor):
        if (
            0 < x.shape[0] <= self.max_batch
            and not self._failed
            and x.dtype is torch.float32
            and x.device.type == "cpu"
            and not torch.is_grad_enabled()
            and not torch.jit.is_tracing()
        ):
            key = (tuple(x.shape), x.stride())
            fn = self._compiled.get(key, False)
            if fn is False:
                fn = self._compiled[key] = self.compile(x)
            if fn is not None:
                return fn(x)
        return self.module(x)

    @torch.no_grad()
    def compile(self, x: torch.Tensor) -> torch.jit.ScriptModule | None:
        """The compiled trace for inputs shaped like ``x`` (None when it cannot be built)."""
        if not onednn_graph_available():
            self._fail("this PyTorch build has no TorchScript oneDNN Graph fuser")
            return None
        was_enabled = torch._C._jit_llga_enabled()
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=r".*torch\.jit.*deprecated")
                warnings.filterwarnings("ignore", message=r".*deprecated.*torch\.compile")
                torch.jit.enable_onednn_fusion(True)
                fn = torch.jit.freeze(torch.jit.trace(self.module.eval(), x, check_trace=False))
                for _ in range(WARMUP_RUNS):
                    fn(x)
                graph = torch.jit.last_executed_optimized_graph()
        except Exception as e:  # any TorchScript / fuser failure: run the module instead
            self._fail(f"{type(e).__name__}: {str(e)[:200]}")
            return None
        finally:
            torch.jit.enable_onednn_fusion(was_enabled)
        if FUSION_GROUP not in str(graph):
            self._fail("the fuser built no oneDNN partitions")
            return None
        logger.debug("oneDNN Graph compiled for input %s", tuple(x.shape))
        return fn

    def _fail(self, reason: str) -> None:
        self._failed = True
        logger.warning("oneDNN Graph path disabled (%s); running the packed convolutions", reason)

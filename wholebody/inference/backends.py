"""Pose-model backends with one contract: ``backend(batch (B, 3, H, W) float32) -> outputs``.

``TorchBackend`` wraps a ``PoseModel``; ``OrtBackend`` (in ``ort_backend``) runs an ONNX file.
Both expose ``input_size`` (w, h), ``split_ratio`` and ``max_batch`` (None = any).
"""

from __future__ import annotations

import numpy as np
import torch

from wholebody.models import PoseModel


class TorchBackend:
    """PyTorch backend: inference mode, eval, numpy in and out."""

    def __init__(self, model: PoseModel, device: str | torch.device = "cpu") -> None:
        self.model = model.eval().to(device)
        self.device = torch.device(device)
        self.config = model.config
        self.input_size = tuple(model.config.input_size)
        self.split_ratio = model.config.simcc_split_ratio
        self.is_simcc = model.is_simcc
        self.max_batch = None

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, ...]:
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(self.device)
            out = self.model(x)
        out = out if isinstance(out, tuple) else (out,)
        return tuple(o.float().cpu().numpy() for o in out)

"""ONNX Runtime backend for SimCC pose models with the released DWPose/RTMW I/O.

Any file with input ``[N, 3, H, W]`` and outputs ``simcc_x [N, K, r*W]``, ``simcc_y [N, K, r*H]``
(names ignored, order used, as rtmlib does) loads, e.g. DWPose's ``dw-ll_ucoco_384.onnx``.
Static-batch files (N fixed, e.g. 1) are run in chunks of N (the last one zero-padded).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort

logger = logging.getLogger(__name__)


def make_session(path: str | os.PathLike, threads: int | None = None) -> ort.InferenceSession:
    """An ORT CPU session; ValueError naming the file when missing or unreadable."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(
            f"ONNX model file not found: {p} (export one with `python -m experiments.export_onnx` "
            "or download a released DWPose/RTMW/YOLOX .onnx and pass its path)"
        )
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(str(p), opts, providers=["CPUExecutionProvider"])
    except Exception as e:
        raise ValueError(f"cannot load ONNX model {p}: {str(e)[:300]}") from None


class OrtBackend:
    """ORT pose backend; reads input size, split ratio and keypoint count from the file."""

    def __init__(
        self,
        path: str | os.PathLike,
        input_size: tuple[int, int] | None = None,
        threads: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.session = make_session(path, threads)
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ValueError(
                f"{self.path}: expected one input [N, 3, H, W], got "
                f"{[(i.name, i.shape) for i in inputs]}"
            )
        self.input_name = inputs[0].name
        n, c, h, w = inputs[0].shape
        if isinstance(h, int) and isinstance(w, int):
            self.input_size = (w, h)
        elif input_size is not None:
            self.input_size = tuple(input_size)
        else:
            raise ValueError(f"{self.path}: input H, W are dynamic; pass input_size=(w, h)")
        if input_size is not None and tuple(input_size) != self.input_size:
            raise ValueError(f"{self.path}: file input size {self.input_size} != {input_size}")
        self.max_batch = n if isinstance(n, int) else None
        self.is_simcc = len(outputs) == 2
        if not self.is_simcc and len(outputs) != 1:
            raise ValueError(f"{self.path}: expected outputs simcc_x, simcc_y (or heatmaps)")
        shape = outputs[0].shape
        if not all(isinstance(d, int) for d in shape[1:]):  # symbolic dims: run once to see
            w, h = self.input_size
            shape = self(np.zeros((1, 3, h, w), np.float32))[0].shape
        self.num_keypoints = shape[1]
        self.split_ratio = shape[-1] / self.input_size[0] if self.is_simcc else None

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, ...]:
        x = np.ascontiguousarray(batch, dtype=np.float32)
        if self.max_batch is None or x.shape[0] == self.max_batch:
            return tuple(self.session.run(None, {self.input_name: x}))
        k = self.max_batch  # static batch: run chunks of k, zero-padding the last one
        parts = []
        for start in range(0, len(x), k):
            chunk = x[start : start + k]
            if len(chunk) < k:
                pad = np.zeros((k - len(chunk), *chunk.shape[1:]), np.float32)
                outs = self.session.run(None, {self.input_name: np.concatenate([chunk, pad])})
                outs = [o[: len(chunk)] for o in outs]
            else:
                outs = self.session.run(None, {self.input_name: chunk})
            parts.append(outs)
        return tuple(np.concatenate([p[j] for p in parts]) for j in range(len(parts[0])))

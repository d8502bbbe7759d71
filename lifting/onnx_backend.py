"""onnxruntime inference of the lifter: float32 and dynamic int8 (MLAS integer GEMMs).

The graph comes from :func:`lifting.onnx_export.build_onnx_model`; ``int8`` runs it through
``onnxruntime.quantization.quantize_dynamic``: the weights of the chosen ``MatMul`` layers become
int8 (symmetric, one scale per output channel), activations are quantised to uint8 per tensor at
run time and the products run as u8 x s8 integer GEMMs. On CPUs without bfloat16 units (AVX2)
this is the fast low-precision path; ``lifting.inference.make_predictor(model, dtype="int8")``
uses it.

Defaults, measured on a 2-core AVX2 CPU (``experiments.bench_lifting``): int8 weights with 7-bit
range (``reduce_range``; AVX2 without VNNI forms u8 x s8 pair sums in saturating int16, full
8-bit weights then changed outputs 3-7x more), ~15 % faster than uint8 weights (u8 x u8).
Layers kept in float32 (``keep_float``): the activation x activation attention products
(``QK^T``, ``AV``) always (only constant-weight MatMuls are quantised); by default also the
input embedding (its 3 input channels are pixel coordinates: a per-tensor 8-bit grid moved
joints by up to 5 mm on a trained model), ``pre_logits`` (the most sensitive of the rest) and the
output head; together < 1 % of the FLOPs. Group names: see
:func:`lifting.onnx_export.linear_node_names`.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import onnx

from lifting.config import LifterConfig
from lifting.onnx_export import build_onnx_model, linear_node_names

__all__ = ["DEFAULT_KEEP_FLOAT", "ORT_DTYPES", "OrtLifter", "quantize_int8"]

log = logging.getLogger(__name__)

ORT_DTYPES = ("float32", "int8")
DEFAULT_KEEP_FLOAT = ("embed", "pre_logits", "head")
WEIGHT_TYPES = {"uint8": "QUInt8", "int8": "QInt8"}


def quantize_int8(
    proto: onnx.ModelProto,
    config: LifterConfig,
    keep_float: Iterable[str] = DEFAULT_KEEP_FLOAT,
    per_channel: bool = True,
    weights: str = "int8",
    reduce_range: bool = True,
    contrib_attention: bool = True,
) -> onnx.ModelProto:
    """Dynamic int8 quantisation of the weight MatMuls of an exported lifter graph.

    Args:
        proto: :func:`lifting.onnx_export.build_onnx_model` output.
        config: its config (for node names).
        keep_float: layer groups left in float32 (``embed``, ``qkv``, ``proj``, ``mlp``,
            ``fuse``, ``pre_logits``, ``head``).
        per_channel: one weight scale per output column (else per tensor).
        weights: ``"uint8"`` (u8 x u8 GEMMs) or ``"int8"`` (u8 x s8; on AVX2 without VNNI its
            pairwise int16 sums saturate: use it with ``reduce_range``).
        reduce_range: 7-bit weights (no u8 x s8 saturation, coarser weight grid).
        contrib_attention: the graph was built with this option (node names).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    groups = linear_node_names(config, contrib_attention)
    keep_float = tuple(keep_float)
    unknown = sorted(set(keep_float) - set(groups))
    if unknown:
        raise ValueError(f"keep_float: unknown layer groups {unknown}, expected {sorted(groups)}")
    if weights not in WEIGHT_TYPES:
        raise ValueError(f"weights: expected one of {sorted(WEIGHT_TYPES)}, got {weights!r}")
    exclude = [name for group in keep_float for name in groups[group]]
    # quantize_dynamic logs a pre-processing hint at WARNING through the root logger
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))
    try:
        with tempfile.TemporaryDirectory(prefix="lifter_int8_") as tmp:
            out = Path(tmp) / "int8.onnx"
            quantize_dynamic(
                proto,
                out,
                op_types_to_quantize=["MatMul"],
                per_channel=per_channel,
                reduce_range=reduce_range,
                weight_type=getattr(QuantType, WEIGHT_TYPES[weights]),
                nodes_to_exclude=exclude,
                # types behind contrib ops (MultiHeadAttention) are unknown to onnx inference
                extra_options={
                    "MatMulConstBOnly": True,
                    "DefaultTensorType": onnx.TensorProto.FLOAT,
                },
            )
            return onnx.load(str(out))
    finally:
        root.setLevel(level)


class OrtLifter:
    """onnxruntime session(s) of one lifter: ``(B, T, J, C)`` float32 -> ``(B, T, J, out)``.

    One session serves every B and T (both dynamic in the graph); it is created on first use.

    Args:
        config: the model's config.
        params: its parameters (``lifting.checkpoint.state_dict``).
        dtype: ``"float32"`` or ``"int8"``.
        threads: onnxruntime intra-op threads (``None``: all cores, as JAX and torch use).
        keep_float, per_channel, weights, reduce_range: int8 options (:func:`quantize_int8`).
        contrib_attention: see :func:`lifting.onnx_export.build_onnx_model`.
    """

    def __init__(
        self,
        config: LifterConfig,
        params: dict[str, np.ndarray],
        dtype: str = "int8",
        threads: int | None = None,
        keep_float: Iterable[str] = DEFAULT_KEEP_FLOAT,
        per_channel: bool = True,
        weights: str = "int8",
        reduce_range: bool = True,
        contrib_attention: bool = True,
    ):
        if dtype not in ORT_DTYPES:
            raise ValueError(f"onnxruntime dtype: expected one of {ORT_DTYPES}, got {dtype!r}")
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads: expected a positive int or None, got {threads!r}")
        self.config, self.dtype = config, dtype
        self.threads = threads or os.cpu_count() or 1
        proto = build_onnx_model(config, params, contrib_attention)
        if dtype == "int8":
            proto = quantize_int8(
                proto, config, keep_float, per_channel, weights, reduce_range, contrib_attention
            )
        self.proto = proto
        self._session = None

    @property
    def session(self):
        if self._session is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            self._session = ort.InferenceSession(
                self.proto.SerializeToString(), options, providers=["CPUExecutionProvider"]
            )
            log.debug("onnxruntime %s lifter session ready", self.dtype)
        return self._session

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        return self.session.run(["y"], {"x": x})[0]

"""Export a ``PoseModel`` to ONNX with the released DWPose/RTMW I/O.

Input ``input`` float32 ``[N, 3, H, W]`` (dynamic N); outputs ``simcc_x [N, K, r*W]`` and
``simcc_y [N, K, r*H]`` (heatmap models: ``heatmaps [N, K, h, w]``). Decoding is not in the graph.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import onnx
import torch

from wholebody.models import PoseModel


def export_onnx(
    model: PoseModel,
    path: str | os.PathLike,
    opset: int = 17,
    dynamic_batch: bool = True,
    batch_size: int = 1,
) -> Path:
    """Write ``model`` to ``path`` (legacy TorchScript exporter: no onnxscript needed).

    ``dynamic_batch=False`` fixes N to ``batch_size`` (DWPose's files use N = 1).
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    w, h = model.config.input_size
    dummy = torch.zeros(batch_size, 3, h, w)
    names = ["simcc_x", "simcc_y"] if model.is_simcc else ["heatmaps"]
    axes = {n: {0: "N"} for n in ["input", *names]} if dynamic_batch else None
    model = model.eval()
    tmp = out.with_suffix(out.suffix + ".tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (dummy,),
            str(tmp),
            input_names=["input"],
            output_names=names,
            dynamic_axes=axes,
            opset_version=opset,
            dynamo=False,
        )
    _declare_output_shapes(tmp, model, names)
    os.replace(tmp, out)
    return out


def _declare_output_shapes(path: Path, model: PoseModel, names: list[str]) -> None:
    """Write the static output dims (K and bins) into the graph, as in the released files
    (the exporter leaves K symbolic when the batch is dynamic)."""
    cfg = model.config
    if model.is_simcc:
        dims = {"simcc_x": (cfg.num_keypoints, cfg.simcc_size[0])}
        dims["simcc_y"] = (cfg.num_keypoints, cfg.simcc_size[1])
    else:
        dims = {"heatmaps": (cfg.num_keypoints, cfg.heatmap_size[1], cfg.heatmap_size[0])}
    proto = onnx.load(str(path))
    for output in proto.graph.output:
        shape = output.type.tensor_type.shape.dim
        for dim, value in zip(shape[1:], dims[output.name], strict=True):
            dim.ClearField("dim_param")
            dim.dim_value = value
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))

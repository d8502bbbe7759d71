"""Build a pose backend from ``NAME`` (preset, random init) or ``PATH`` (weights dir, .safetensors,
MMPose .pth, .onnx)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Literal

from wholebody.checkpoint import load_model
from wholebody.inference.backends import TorchBackend
from wholebody.inference.onnx_export import export_onnx
from wholebody.inference.ort_backend import OrtBackend
from wholebody.models import ALIASES, PRESETS, create_model

logger = logging.getLogger(__name__)


def load_backend(
    spec: str,
    backend: Literal["torch", "ort"] = "torch",
    device: str = "cpu",
    threads: int | None = None,
    preset: str | None = None,
):
    """A backend for a preset name or a weights path.

    A preset name builds a randomly initialised model and logs a loud warning (no weights are
    downloaded, ever). ``.onnx`` files always run in ONNX Runtime; other weights run in PyTorch
    or, with ``backend="ort"``, are exported to a temporary ONNX file first. ``preset`` names
    the architecture of a .pth / .safetensors file when it cannot be inferred from the shapes.
    """
    if backend not in ("torch", "ort"):
        raise ValueError(f"backend must be 'torch' or 'ort', got {backend!r}")
    path = Path(spec)
    if path.suffix == ".onnx":
        return OrtBackend(path, threads=threads)
    if spec in PRESETS or spec in ALIASES:
        if not path.exists():
            logger.warning(
                "=" * 20 + " model %r has RANDOM WEIGHTS: predictions are meaningless. Pass a "
                "weights directory, an MMPose .pth or an .onnx file to --model " + "=" * 20,
                spec,
            )
            model = create_model(spec)
        else:
            model = load_model(path, preset)
    else:
        if not path.exists():
            raise ValueError(
                f"--model {spec!r} is neither a preset ({sorted(PRESETS)}) nor an existing path"
            )
        model = load_model(path, preset)
    model.eval()
    if backend == "torch":
        return TorchBackend(model, device)
    tmp = Path(tempfile.mkdtemp(prefix="wholebody_onnx_")) / f"{model.config.name}.onnx"
    return OrtBackend(export_onnx(model, tmp), threads=threads)

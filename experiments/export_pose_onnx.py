"""Export a whole-body pose model to ONNX (released DWPose/RTMW I/O) and/or safetensors.

    python -m experiments.export_pose_onnx --model NAME|PATH --out model.onnx [--static-batch]
    python -m experiments.export_pose_onnx --model rtmw-l.pth --safetensors weights_dir/

``--model`` takes a preset (random weights, warned), a weights directory, a .safetensors or an
MMPose .pth (RTMPose / DWPose / RTMW, converted with every key and shape checked).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from wholebody.checkpoint import load_model, save_model
from wholebody.inference.backends import TorchBackend
from wholebody.inference.onnx_export import export_onnx
from wholebody.inference.ort_backend import OrtBackend
from wholebody.models import ALIASES, PRESETS, count_parameters, create_model

log = logging.getLogger("export_pose_onnx")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="preset name or weights path")
    p.add_argument("--out", default=None, help="ONNX file to write")
    p.add_argument("--safetensors", default=None, help="weights directory to write")
    p.add_argument("--static-batch", action="store_true", help="fix N = 1 (default dynamic)")
    p.add_argument("--opset", type=int, default=17)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.out is None and args.safetensors is None:
        p.error("nothing to do: pass --out and/or --safetensors")
    if (args.model in PRESETS or args.model in ALIASES) and not Path(args.model).exists():
        log.warning("model %r has RANDOM WEIGHTS (preset name, no weights file)", args.model)
        model = create_model(args.model).eval()
    else:
        model = load_model(args.model)
    log.info("%s: %.2fM parameters", model.config.name, count_parameters(model) / 1e6)
    if args.safetensors:
        log.info("wrote %s", save_model(model, args.safetensors))
    if args.out:
        path = export_onnx(model, args.out, args.opset, dynamic_batch=not args.static_batch)
        w, h = model.config.input_size
        x = np.random.default_rng(0).normal(size=(1, 3, h, w)).astype(np.float32)
        diff = max(
            float(np.abs(a - b).max() / max(np.abs(a).max(), 1e-12))
            for a, b in zip(TorchBackend(model)(x), OrtBackend(path)(x), strict=True)
        )
        log.info("wrote %s (torch vs ORT max relative difference %.2e)", path, diff)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

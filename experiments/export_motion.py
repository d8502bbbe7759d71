"""Export a fitted SMPL-X sequence (the fitting command's PARAMS.npz) as BVH, FBX or GLB.

    python -m experiments.export_motion PARAMS.npz --format bvh|fbx|glb --out FILE \\
        [--fps F] [--up y|z] [--units m|cm] [--names smplx|mixamo|unreal]

Axis/unit conversion (the fit lives in the OpenCV camera frame, y down): ``--up y`` writes
world = (x, -y, -z) of the camera frame (Y up, facing +Z); ``--up z`` writes (x, z, -y)
(Z up, facing -Y); ``--units cm`` scales lengths by 100. GLB is always Y-up metres (glTF).
BVH holds the skeleton (55 joints, or 22 with ``--body-only``; fingertip and toe End Sites
from the mesh surface); FBX adds the skinned rest mesh
of the fitted shape unless ``--no-mesh``; GLB always carries the skinned mesh.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from body_models import load_model_file
from body_models.export.bvh import write_bvh
from body_models.export.fbx_scene import write_fbx
from body_models.export.gltf import write_glb
from body_models.export.names import NAME_STYLES
from body_models.export.smplx_motion import (
    model_rest_joints,
    smplx_end_sites,
    smplx_motion,
    smplx_skinned_mesh,
)
from experiments.npz_io import load_npz

log = logging.getLogger(__name__)

PARAM_KEYS = (
    "global_orient", "body_pose", "jaw_pose", "leye_pose", "reye_pose", "left_hand_pose",
    "right_hand_pose", "transl",
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wbmocap export", description=__doc__.splitlines()[0])
    p.add_argument("params", type=Path, help="PARAMS.npz written by the fitting command")
    p.add_argument("--format", required=True, choices=("bvh", "fbx", "glb"))
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--fps", type=float, default=None, help="default: PARAMS fps, else 30")
    p.add_argument("--up", choices=("y", "z"), default=None, help="default y")
    p.add_argument("--units", choices=("m", "cm"), default=None, help="default m")
    p.add_argument("--names", choices=NAME_STYLES, default="smplx")
    p.add_argument("--model", default=None, help="model file (default: PARAMS 'model' entry)")
    p.add_argument("--body-only", action="store_true", help="22 body joints, no hands/face")
    p.add_argument("--order", default="ZXY", help="BVH Euler channel order (default ZXY)")
    p.add_argument("--no-mesh", action="store_true", help="FBX: skeleton and animation only")
    p.add_argument("--run-dir", type=Path, default=Path("runs/export"))
    return p


def _write_json_atomic(path: Path, obj, mode: str = "w") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "a":
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(obj) + "\n")
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str))
    os.replace(tmp, path)


def export(args: argparse.Namespace) -> dict:
    data = load_npz(args.params, required=("global_orient", "body_pose"))
    params = {k: data[k] for k in PARAM_KEYS if k in data}
    betas = data.get("betas")
    model_arg = args.model or (str(data["model"]) if "model" in data else "open")
    fps = args.fps if args.fps is not None else float(data["fps"]) if "fps" in data else 30.0
    up, units = args.up or "y", args.units or "m"
    if args.format == "glb" and (up, units) != ("y", "m"):
        raise ValueError(f"--format glb: glTF is Y-up metres, got --up {up} --units {units}")
    model = load_model_file(model_arg)
    rest = model_rest_joints(model, betas)
    ends = smplx_end_sites(model, betas)
    motion = smplx_motion(params, rest, fps, up, units, args.names, args.body_only, ends)
    need_mesh = args.format == "glb" or (args.format == "fbx" and not args.no_mesh)
    mesh = smplx_skinned_mesh(model, betas, up, units, args.body_only) if need_mesh else None
    if args.out.parent and not args.out.parent.exists():
        args.out.parent.mkdir(parents=True)
    if args.format == "bvh":
        write_bvh(args.out, motion, order=args.order)
    elif args.format == "fbx":
        write_fbx(args.out, motion, up=up, units=units, mesh=mesh)
    else:
        write_glb(args.out, motion, mesh)
    return {
        "frames": motion.num_frames,
        "joints": motion.num_joints,
        "fps": fps,
        "bytes": args.out.stat().st_size,
        "model": model.path,
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    start = time.perf_counter()
    info = export(args)
    info["seconds"] = round(time.perf_counter() - start, 4)
    _write_json_atomic(args.run_dir / "config.json", vars(args))
    _write_json_atomic(args.run_dir / "metrics.jsonl", {"out": str(args.out), **info}, mode="a")
    log.info("wrote %s: %d frames x %d joints (%s)", args.out, info["frames"], info["joints"],
             args.format)  # fmt: skip
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main())

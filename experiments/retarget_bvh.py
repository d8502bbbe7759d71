"""Retarget a BVH motion (e.g. CMU mocap) onto SMPL-X and save it as a PARAMS.npz.

    python -m experiments.retarget_bvh IN.bvh --out PARAMS.npz
        [--map cmu|smplx|mixamo|unreal|MAP.json] [--model open|PATH] [--source-up y|z]
        [--every N]

The output has the fitting command's keys (betas, global_orient, transl, body_pose, jaw/eye
and hand poses, expression, joints (T, 55, 3), model, fps) in its OpenCV camera frame, so
``python -m experiments.export_motion`` and the lifting data tools read it unchanged.
``MAP.json`` maps source joint names to SMPL-X joint names.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from body_models import load_model_file
from body_models.export.bvh_read import read_bvh
from body_models.export.names import NAME_STYLES, source_map
from body_models.export.retarget import retarget_to_smplx
from body_models.export.smplx_motion import (
    CAMERA_TO_Y_UP,
    Y_UP_TO_Z_UP,
    model_rest_joints,
    smplx_motion,
)
from experiments.npz_io import save_npz_atomic

log = logging.getLogger(__name__)
MAPS = ("cmu",) + NAME_STYLES


def load_map(spec: str) -> dict[str, str]:
    if spec in MAPS:
        return source_map(spec)
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"--map: expected one of {sorted(MAPS)} or a JSON file, got {spec!r}")
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"{path}: expected a JSON object of source name -> SMPL-X name")
    return data


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="wbmocap retarget", description=__doc__.splitlines()[0])
    p.add_argument("bvh", type=Path)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--map", default="cmu", help="built-in map name or JSON file")
    p.add_argument("--model", default="open", help="SMPL-X-layout model file or 'open'")
    p.add_argument("--source-up", choices=("y", "z"), default="y")
    p.add_argument("--every", type=int, default=1, help="keep every N-th frame")
    args = p.parse_args(argv)
    if args.every < 1:
        raise ValueError(f"--every: expected >= 1, got {args.every}")
    src = read_bvh(args.bvh)
    if args.every > 1:
        src = replace(
            src,
            rotations=src.rotations[:: args.every],
            positions={j: v[:: args.every] for j, v in src.positions.items()},
            frame_time=src.frame_time * args.every,
        )
    model = load_model_file(args.model)
    rest = model_rest_joints(model)
    basis = Y_UP_TO_Z_UP.T if args.source_up == "z" else None
    params = retarget_to_smplx(src, load_map(args.map), rest, source_basis=basis)
    world, _ = smplx_motion(params, rest, fps=src.fps).forward_kinematics()
    T = src.num_frames
    params.update(
        expression=np.zeros((T, model.num_expression)),
        joints=world @ CAMERA_TO_Y_UP.T,  # back into the camera frame
        model=np.array(str(model.path)),
        fps=np.array(src.fps),
    )
    save_npz_atomic(args.out, params)
    log.info("wrote %s: %d frames at %.3f fps from %s", args.out, T, src.fps, args.bvh)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main())

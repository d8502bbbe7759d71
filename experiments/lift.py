"""Lift a 2D keypoint track to root-relative 3D with a trained or converted lifter.

    python -m experiments.lift KEYPOINTS2D.npz --out OUT.npz [--checkpoint PATH]

Input npz: ``keypoints (T, J, 2)`` pixels, ``scores (T, J)``, ``image_size (2,)`` = (height,
width). COCO-WholeBody (133) or COCO (17) input is converted by name to the checkpoint's joint
set (e.g. h36m). Output npz: ``keypoints3d (T, J, 3)`` metres, root-relative, camera frame
(x right, y down, z forward), ``scores (T, J)``, ``joint_names (J,)``.

A checkpoint is a lifting checkpoint directory / ``.safetensors`` file, or a MotionBERT
``.bin``/``.pth`` converted on the fly. Models whose ``meta["output_unit"]`` is not metres (e.g.
converted MotionBERT weights) are scaled to ``--person-height``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from experiments.npz_io import load_npz, save_npz_atomic

log = logging.getLogger(__name__)

TORCH_SUFFIXES = (".bin", ".pth", ".pt")


def load_model(args):
    """The lifter from ``--checkpoint`` or ``--random-init``; ValueError naming a missing file."""
    from lifting.checkpoint import load_checkpoint
    from lifting.convert_motionbert import load_motionbert
    from lifting.model import create_model

    if args.random_init:
        log.warning("using RANDOM weights (--random-init): output is meaningless")
        return create_model(args.preset, num_joints=args.num_joints, rngs=args.seed)
    if args.checkpoint is None:
        raise ValueError(
            "no lifter checkpoint: pass --checkpoint PATH (a lifting checkpoint directory, "
            "model.safetensors, or a MotionBERT .bin/.pth), or --random-init for a smoke test"
        )
    path = Path(args.checkpoint)
    if not path.exists():
        raise ValueError(f"lifter checkpoint not found: {path}")
    if path.suffix in TORCH_SUFFIXES:
        return load_motionbert(path)
    return load_checkpoint(path)


def read_input(path) -> tuple[np.ndarray, np.ndarray, float, float]:
    data = load_npz(path, required=("keypoints", "scores", "image_size"))
    kp = np.asarray(data["keypoints"], dtype=np.float64)
    sc = np.asarray(data["scores"], dtype=np.float64)
    size = np.asarray(data["image_size"], dtype=np.float64).reshape(-1)
    if kp.ndim != 3 or kp.shape[-1] != 2 or kp.shape[0] == 0:
        raise ValueError(f"{path}: keypoints must be (T, J, 2) with T >= 1, got {kp.shape}")
    if sc.shape != kp.shape[:2]:
        raise ValueError(f"{path}: scores must be {kp.shape[:2]}, got {sc.shape}")
    if size.shape != (2,) or not np.all(size > 0):
        raise ValueError(f"{path}: image_size must be (height, width) > 0, got {size}")
    return kp, sc, float(size[1]), float(size[0])


def input_set_name(num_joints: int, requested: str) -> str:
    if requested != "auto":
        return requested
    guesses = {133: "coco_wholebody", 17: "coco"}
    if num_joints not in guesses:
        raise ValueError(f"cannot guess the keypoint set of {num_joints} joints: pass --input-set")
    return guesses[num_joints]


def root_of(kset, pose: np.ndarray) -> np.ndarray:
    """Root joint ``(T, 1, 3)``: the set's root, else the mid-hip by name."""
    if kset.root is not None:
        return pose[:, kset.index(kset.root)][:, None]
    return pose[:, kset.indices(["left_hip", "right_hip"])].mean(axis=1, keepdims=True)


def body_height(kset, pose: np.ndarray) -> float:
    """Median standing height estimate: legs + trunk + neck-to-head chain (by joint names)."""

    def p(name):
        return pose[:, kset.index(name)]

    def dist(a, b):
        return np.linalg.norm(a - b, axis=-1)

    legs = 0.5 * sum(
        dist(p(f"{s}_ankle"), p(f"{s}_knee")) + dist(p(f"{s}_knee"), p(f"{s}_hip"))
        for s in ("left", "right")
    )
    hips = 0.5 * (p("left_hip") + p("right_hip"))
    shoulders = 0.5 * (p("left_shoulder") + p("right_shoulder"))
    top = p("head") if "head" in kset else p("nose")
    total = legs + dist(hips, shoulders) + dist(shoulders, top)
    return float(np.median(total)) * 1.08  # ankle->sole and nose/head-top margins


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wbmocap lift", description=__doc__.split("\n\n")[0])
    parser.add_argument("keypoints2d", help="npz with keypoints (T,J,2), scores, image_size")
    parser.add_argument("--out", required=True, help="output npz (keypoints3d (T,J,3) metres)")
    parser.add_argument("--checkpoint", help="lifting checkpoint dir/.safetensors or MotionBERT")
    parser.add_argument("--random-init", action="store_true", help="random weights (smoke test)")
    parser.add_argument("--preset", default="small", help="preset for --random-init")
    parser.add_argument("--num-joints", type=int, default=None, help="J for --random-init")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--input-set", default="auto", help="keypoint set of the input")
    parser.add_argument("--input-norm", choices=("screen", "bbox"), default=None,
                        help="override the checkpoint's input normalisation")  # fmt: skip
    parser.add_argument("--no-flip", action="store_true", help="disable flip test-time augment.")
    parser.add_argument("--dtype", choices=("float32", "bfloat16", "int8"), default="float32",
                        help="lifter precision (int8: onnxruntime, dynamic)")  # fmt: skip
    parser.add_argument("--window", type=int, default=None, help="frames per call (maxlen)")
    parser.add_argument("--overlap", type=int, default=None, help="blended frames (window/3)")
    parser.add_argument("--online", action="store_true", help="causal sliding-window mode")
    parser.add_argument("--person-height", type=float, default=1.7,
                        help="metres, for models without metric output")  # fmt: skip
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    from lifting.inference import (
        OnlineLifter,
        flip_indices_for,
        flip_tta,
        lift_sequence,
        make_predictor,
        sanitize_input,
    )
    from lifting.normalize import normalize_input
    from wholebody.keypoints import convert_keypoints, get_keypoint_set

    kp, sc, width, height = read_input(args.keypoints2d)
    model = load_model(args)
    config = model.config
    src = get_keypoint_set(input_set_name(kp.shape[1], args.input_set))
    dst = get_keypoint_set(config.keypoint_set)
    if len(src) != kp.shape[1]:
        raise ValueError(f"input has {kp.shape[1]} joints, --input-set {src.name} has {len(src)}")
    if len(dst) != config.num_joints:
        raise ValueError(f"model has {config.num_joints} joints, its set {dst.name} {len(dst)}")
    invalid = ~np.all(np.isfinite(kp), axis=-1) | ~np.isfinite(sc)  # missing detections
    kp, sc = np.where(invalid[..., None], 0.0, kp), np.where(invalid, 0.0, sc)
    if src.name != dst.name:  # synthesized points take the weakest source score (0 if missing)
        kp, sc = convert_keypoints(kp, sc, src, dst, missing="zero")
    input_norm = args.input_norm or config.meta.get("input_norm", "bbox")
    x = sanitize_input(normalize_input(kp, sc, width, height, input_norm), config.num_joints)

    predict = make_predictor(model, dtype=args.dtype)
    if not args.no_flip:
        predict = flip_tta(predict, flip_indices_for(config))
    window = min(args.window or config.maxlen, config.maxlen)
    start = time.perf_counter()
    if args.online:
        online = OnlineLifter(predict, window)
        pose = np.stack([online.push(f) for f in tqdm(x, desc="frames", unit="frame")])
        lat = np.asarray(online.latencies[1:] or online.latencies) * 1e3
        log.info("online latency per new frame: median %.1f ms, p95 %.1f ms (first %.0f ms)",
                 np.median(lat), np.percentile(lat, 95), online.latencies[0] * 1e3)  # fmt: skip
    else:
        bar = tqdm(desc="windows", unit="window")

        def progress(done: int, total: int) -> None:
            bar.total, bar.n = total, done
            bar.refresh()

        pose = lift_sequence(predict, x, window=window, overlap=args.overlap, callback=progress)
        bar.close()
    log.info("lifted %d frames in %.2f s", len(x), time.perf_counter() - start)

    pose = pose - root_of(dst, pose)
    unit = config.meta.get("output_unit", "m")
    if unit != "m":
        scale = args.person_height / max(body_height(dst, pose), 1e-6)
        log.info("model output unit %r: scaled by %.4f to a %.2f m person", unit, scale,
                 args.person_height)  # fmt: skip
        pose = pose * scale
    save_npz_atomic(
        args.out,
        {
            "keypoints3d": pose.astype(np.float32),
            "scores": x[..., 2],
            "joint_names": np.asarray(dst.names),
            "info": np.asarray(json.dumps({"keypoint_set": dst.name, "input_norm": input_norm})),
        },
    )
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

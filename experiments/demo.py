"""End-to-end demo on open data: motion -> 2D keypoints -> (lifter) -> SMPL-X fit -> files and maps.

    python -m experiments.demo [--frames 60] [--run-name demo] [--params PARAMS.npz]
                               [--lifter CKPT] [--skip-maps]

Stages (each one is the stage's own command-line program, so the demo exercises the contracts):

1. Motion: a procedural walk-in-place with arm swing, turning and finger curls on the open
   embedded body (or ``--params``, any SMPL-X parameter file in the fitting command's format,
   e.g. CMU mocap retargeted with ``wbmocap retarget``), in front of a 640x480 camera.
2. ``body_forward``: 133 COCO-WholeBody keypoints in the camera frame; projected to pixels with
   1.5 px noise: the input a 2D estimator would give.
3. ``controlnet_maps``: OpenPose-style pose maps + ``openpose.json`` from the 2D keypoints.
4. 3D keypoints: with ``--lifter`` the ``lift`` command lifts the 2D track (root-relative, then
   placed at the true root); without released lifter weights the demo stands in for the lifter
   with the true 3D keypoints plus 10 mm noise and 10 % dropped points, and says so.
5. ``fit_sequence``: SMPL-X parameters from the 3D keypoints; joint error against the truth.
6. ``export_motion``: BVH, FBX and GLB; ``controlnet_maps``: depth and normal maps of the fit.

Writes ``runs/<name>/`` with every file, ``config.json`` and ``metrics.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from experiments.npz_io import load_npz, save_npz_atomic
from wholebody.camera import Camera
from wholebody.keypoints import COCO_WHOLEBODY, SMPLX

log = logging.getLogger("demo")
WIDTH, HEIGHT, FOV_X = 640, 480, 55.0


def walk_params(frames: int, fps: float) -> dict[str, np.ndarray]:
    """A procedural walk in place (SMPL-X names, axis-angle, model frame: Y up, facing +Z)."""
    t = np.arange(frames) / fps
    phase = 2 * np.pi * 1.0 * t  # one stride per second
    body = np.zeros((frames, 21, 3))

    def joint(name: str) -> int:  # body_pose rows are SMPL-X joints 1..21
        return SMPLX.index(name) - 1

    swing = np.sin(phase)
    body[:, joint("left_hip"), 0] = -0.45 * swing
    body[:, joint("right_hip"), 0] = 0.45 * swing
    body[:, joint("left_knee"), 0] = 0.7 * np.clip(np.sin(phase + 1.2), 0, None)
    body[:, joint("right_knee"), 0] = 0.7 * np.clip(-np.sin(phase + 1.2), 0, None)
    body[:, joint("left_shoulder"), 2] = -1.2  # arms down from the T-pose
    body[:, joint("right_shoulder"), 2] = 1.2
    body[:, joint("left_shoulder"), 1] = 0.4 * swing  # arms swing against the legs
    body[:, joint("right_shoulder"), 1] = 0.4 * swing
    body[:, joint("left_elbow"), 1] = -0.3 - 0.2 * np.clip(swing, 0, None)
    body[:, joint("right_elbow"), 1] = 0.3 + 0.2 * np.clip(-swing, 0, None)
    body[:, joint("spine2"), 1] = 0.1 * swing
    body[:, joint("head"), 0] = 0.1 * np.sin(0.5 * phase)
    curl = 0.6 * (0.5 + 0.5 * np.sin(0.7 * phase))[:, None]  # fingers open and close
    hand = np.zeros((frames, 15, 3))
    hand[:, :, 2] = curl
    # canonical (Y up, facing +Z) -> camera (Y down, facing the camera): 180 deg about x,
    # then a slow turn about the vertical axis
    from wholebody.rotations import axis_angle_to_matrix, matrix_to_axis_angle

    flip = axis_angle_to_matrix(np.array([np.pi, 0.0, 0.0]))
    turn = axis_angle_to_matrix(np.stack([0 * t, 0.6 * np.sin(0.5 * phase), 0 * t], -1))
    return {
        "betas": np.zeros(10),
        "global_orient": matrix_to_axis_angle(turn @ flip),
        "body_pose": body.reshape(frames, 63),
        "left_hand_pose": hand.reshape(frames, 45),
        "right_hand_pose": -hand.reshape(frames, 45),
        "jaw_pose": np.stack([0.15 * (0.5 + 0.5 * np.sin(phase)), 0 * t, 0 * t], -1),
        "fps": np.array(fps),
    }


def place_in_front(params: dict, model: str, depth: float = 3.6) -> dict:
    """Set ``transl`` so the pelvis sits on the optical axis at ``depth`` metres."""
    from body_models import load_model_file, rest_joints

    pelvis = rest_joints(load_model_file(model), params.get("betas"))[SMPLX.index("pelvis")]
    frames = len(params["global_orient"])
    params["transl"] = np.tile(np.array([0.0, 0.15, depth]) - pelvis, (frames, 1))
    return params


def run(stage: str, module: str, argv: list[str], metrics: list[dict]) -> None:
    """Run one stage's command-line program in-process and time it."""
    import importlib

    start = time.perf_counter()
    log.info("[%s] python -m experiments.%s %s", stage, module, " ".join(argv))
    code = importlib.import_module(f"experiments.{module}").main(argv)
    if code:
        raise SystemExit(f"stage {stage} failed with exit code {code}")
    metrics.append({"stage": stage, "seconds": round(time.perf_counter() - start, 3)})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="wbmocap demo", description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--run-name", default="demo")
    p.add_argument("--model", default="open", help="SMPL-X-layout model: 'open' or a path")
    p.add_argument("--params", type=Path, help="motion as SMPL-X params (camera frame)")
    p.add_argument("--lifter", help="lifting checkpoint; without it true 3D + noise stands in")
    p.add_argument("--skip-maps", action="store_true", help="no ControlNet maps")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.frames < 2:
        p.error(f"--frames: expected >= 2, got {args.frames}")
    out = Path("runs") / args.run_name
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps({k: str(v) for k, v in vars(args).items()}))
    rng = np.random.default_rng(args.seed)
    metrics: list[dict] = []

    # 1. motion
    if args.params is not None:
        truth = load_npz(args.params)
    else:
        truth = place_in_front(walk_params(args.frames, args.fps), args.model)
    save_npz_atomic(out / "truth_params.npz", truth)

    # 2. forward -> keypoints, projected with noise
    run("forward", "body_forward", [str(out / "truth_params.npz"), "--out",
        str(out / "truth_body.npz"), "--model", args.model], metrics)  # fmt: skip
    kp3d = load_npz(out / "truth_body.npz")["keypoints3d"]  # (T, 133, 3) camera frame
    camera = Camera.from_fov(FOV_X, WIDTH, HEIGHT)
    kp2d = camera.project(kp3d) + rng.normal(0, 1.5, size=kp3d.shape[:-1] + (2,))
    scores = np.full(kp2d.shape[:-1], 0.9)
    save_npz_atomic(out / "keypoints2d.npz", {
        "keypoints": kp2d, "scores": scores, "image_size": np.array([HEIGHT, WIDTH]),
    })  # fmt: skip
    camera_json = out / "camera.json"
    camera_json.write_text(
        json.dumps(
            {
                "fx": camera.fx,
                "fy": camera.fy,
                "cx": camera.cx,
                "cy": camera.cy,
                "width": WIDTH,
                "height": HEIGHT,
            }
        )
    )

    # 3. ControlNet pose maps (one person per frame: (T, N=1, 133, 2))
    if not args.skip_maps:
        save_npz_atomic(out / "pose_input.npz", {
            "keypoints": kp2d[:, None], "scores": scores[:, None],
            "image_size": np.array([HEIGHT, WIDTH]),
        })  # fmt: skip
        run("pose maps", "controlnet_maps", [str(out / "pose_input.npz"), "--out",
            str(out / "controlnet_pose"), "--fps", str(args.fps)], metrics)  # fmt: skip

    # 4. 3D keypoints for fitting
    if args.lifter:
        run("lift", "lift", [str(out / "keypoints2d.npz"), "--out", str(out / "lifted.npz"),
            "--checkpoint", args.lifter], metrics)  # fmt: skip
        lifted = load_npz(out / "lifted.npz")["keypoints3d"]
        if lifted.shape[1] != 133:
            raise SystemExit(f"--lifter must output 133 joints for fitting, got {lifted.shape}")
        root = kp3d[:, COCO_WHOLEBODY.indices(["left_hip", "right_hip"])].mean(1, keepdims=True)
        fit_in, fit_conf = lifted + root, np.ones(lifted.shape[:2])
        source = "lifter"
    else:
        log.warning("no --lifter checkpoint: standing in with true 3D + 10 mm noise, 10%% dropped")
        fit_in = kp3d + rng.normal(0, 0.010, size=kp3d.shape)
        fit_conf = (rng.uniform(size=kp3d.shape[:2]) > 0.1).astype(np.float64)
        source = "truth + 10 mm noise, 10 % dropped"
    save_npz_atomic(out / "keypoints3d.npz", {"keypoints3d": fit_in, "scores": fit_conf})

    # 5. fit
    run("fit", "fit_sequence", [str(out / "keypoints3d.npz"), "--out", str(out / "fit.npz"),
        "--model", args.model, "--fps", str(args.fps)], metrics)  # fmt: skip
    fit = load_npz(out / "fit.npz")
    joint_err = np.linalg.norm(fit["keypoints3d"] - kp3d, axis=-1)
    metrics.append({"stage": "fit accuracy", "input": source,
                    "keypoint_error_mm_mean": float(1000 * joint_err.mean()),
                    "keypoint_error_mm_median": float(1000 * np.median(joint_err))})  # fmt: skip

    # 6. exports and mesh maps
    for fmt in ("bvh", "fbx", "glb"):
        run(f"export {fmt}", "export_motion", [str(out / "fit.npz"), "--format", fmt, "--out",
            str(out / f"motion.{fmt}"), "--fps", str(args.fps)], metrics)  # fmt: skip
    if not args.skip_maps:
        for kind in ("depth", "normal"):
            run(f"{kind} maps", "controlnet_maps", [str(out / "fit.npz"), "--out",
                str(out / f"controlnet_{kind}"), "--kind", kind, "--camera", str(camera_json),
                "--fps", str(args.fps)], metrics)  # fmt: skip

    with open(out / "metrics.jsonl", "w") as f:
        for m in metrics:
            f.write(json.dumps(m) + "\n")
    acc = metrics_by_stage(metrics)["fit accuracy"]
    sys.stdout.write(
        f"demo finished: {args.frames} frames -> {out}/\n"
        f"  fit keypoint error {acc['keypoint_error_mm_mean']:.1f} mm mean "
        f"({acc['input']})\n"
        f"  files: motion.bvh motion.fbx motion.glb fit.npz controlnet_*/ metrics.jsonl\n"
    )
    return 0


def metrics_by_stage(metrics: list[dict]) -> dict[str, dict]:
    return {m["stage"]: m for m in metrics}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main())

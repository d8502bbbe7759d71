"""Benchmark: sequence fitting speed and accuracy against a torch L-BFGS SMPLify-style baseline.

    python -m experiments.bench_fitting [--frames 1000] [--model random|open|PATH]
        [--baseline-iters 30] [--noise 0.0]

Both fit the same synthetic ``(T, 133, 3)`` sequence (made with the model, OpenCV camera frame)
with the same terms (Geman-McClure keypoint data term, pose L2 + knee/elbow hinge, hand/jaw/
expression/shape L2, velocity + acceleration smoothness) and the same stages and initialisation;
ours is ``body_models.fitting`` (JAX, batched Levenberg-Marquardt), the baseline is
``torch.optim.LBFGS`` (strong Wolfe) on all frames jointly, written here for the comparison.
Prints frames/s, the final mean keypoint residual (mm, to the targets and to the noise-free
truth) and the ratios.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench_fitting", description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=1000)
    p.add_argument("--model", default="random", help="'random' (synthetic file), 'open' or a path")
    p.add_argument("--config", default="default")
    p.add_argument("--baseline-iters", type=int, default=30, help="L-BFGS iterations per stage")
    p.add_argument("--noise", type=float, default=0.0, help="Gaussian keypoint noise, metres")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-baseline", action="store_true")
    p.add_argument("--run-dir", type=Path, default=Path("runs/bench_fitting"))
    return p


def make_sequence(model, T: int, seed: int) -> dict:
    """Smooth random parameters: upright person ~3 m in front of an OpenCV camera."""
    from wholebody.keypoints import SMPLX

    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, T)[:, None]
    phase = rng.uniform(0, 2 * np.pi, size=(1, 63))
    body = (0.15 * np.sin(2 * np.pi * 3 * t + phase)).reshape(T, 21, 3)
    for name, axis, sign in (("left_knee", 0, 1), ("right_knee", 0, 1), ("left_elbow", 1, -1),
                             ("right_elbow", 1, 1)):  # fmt: skip
        body[:, SMPLX.index(name) - 1, axis] = sign * np.abs(body[:, SMPLX.index(name) - 1, axis])
    hands = 0.15 * np.sin(2 * np.pi * 2 * t + rng.uniform(0, 6, size=(1, 90)))
    return {
        "betas": rng.normal(size=model.num_betas) * 0.8 * (np.arange(model.num_betas) < 10),
        "expression": 0.5 * np.sin(2 * np.pi * t + rng.uniform(0, 6, (1, model.num_expression))),
        "global_orient": np.array([np.pi, 0.0, 0.0]) + 0.2 * np.sin(2 * np.pi * t + [0, 1, 2]),
        "transl": np.array([0.0, 0.3, 3.0]) + 0.3 * np.sin(2 * np.pi * t + [0, 2, 4]),
        "body_pose": body.reshape(T, 63),
        "jaw_pose": 0.1 * np.abs(np.sin(2 * np.pi * t)) * np.array([1.0, 0.0, 0.0]),
        "left_hand_pose": hands[:, :45],
        "right_hand_pose": hands[:, 45:],
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from body_models import load_model_file
    from body_models.fitting import fit_sequence, get_config
    from body_models.forward import body_forward
    from body_models.synthetic import random_model_file

    if args.model == "random":
        tmp = tempfile.mkdtemp(prefix="bench_fitting_")
        model = load_model_file(random_model_file(Path(tmp) / "SMPLX_NEUTRAL.npz", seed=3))
    else:
        model = load_model_file(args.model)
    cfg = get_config(args.config)
    truth = body_forward(model, make_sequence(model, args.frames, args.seed)).keypoints
    rng = np.random.default_rng(args.seed + 1)
    target = truth + rng.normal(scale=args.noise, size=truth.shape) if args.noise else truth
    scores = np.ones(target.shape[:2])

    # warm-up on a short sequence compiles the same chunk shapes as the timed run
    warm = min(args.frames, cfg.chunk)
    fit_sequence(model, target[:warm], scores[:warm], cfg)
    start = time.perf_counter()
    ours = fit_sequence(model, target, scores, cfg)
    ours_s = time.perf_counter() - start
    rows = {"ours": _row(ours.keypoints, target, truth, args.frames, ours_s)}
    log.info("ours (JAX LM): %s", rows["ours"])

    if not args.skip_baseline:
        from experiments.torch_smplify import fit_lbfgs

        start = time.perf_counter()
        kp_base = fit_lbfgs(model, target, scores, cfg, args.baseline_iters)
        base_s = time.perf_counter() - start
        rows["torch_lbfgs"] = _row(kp_base, target, truth, args.frames, base_s)
        log.info("baseline (torch L-BFGS): %s", rows["torch_lbfgs"])
        ratio = rows["ours"]["frames_per_s"] / rows["torch_lbfgs"]["frames_per_s"]
        rows["speed_ratio"] = ratio
        print(f"frames: {args.frames}  ours: {rows['ours']['frames_per_s']:.1f} frames/s, "
              f"{rows['ours']['residual_mm']:.2f} mm  |  torch L-BFGS: "
              f"{rows['torch_lbfgs']['frames_per_s']:.1f} frames/s, "
              f"{rows['torch_lbfgs']['residual_mm']:.2f} mm  |  speed ratio {ratio:.2f}x"
              )  # fmt: skip
    else:
        print(f"frames: {args.frames}  ours: {rows['ours']['frames_per_s']:.1f} frames/s, "
              f"{rows['ours']['residual_mm']:.2f} mm")  # fmt: skip
    args.run_dir.mkdir(parents=True, exist_ok=True)
    (args.run_dir / "config.json").write_text(json.dumps(vars(args), default=str, indent=2))
    with open(args.run_dir / "metrics.jsonl", "a") as fh:
        fh.write(json.dumps(rows) + "\n")
    return 0


def _row(kp, target, truth, T, seconds) -> dict:
    return {
        "seconds": round(seconds, 3),
        "frames_per_s": T / seconds,
        "residual_mm": float(np.linalg.norm(kp - target, axis=-1).mean() * 1000),
        "error_to_truth_mm": float(np.linalg.norm(kp - truth, axis=-1).mean() * 1000),
    }


if __name__ == "__main__":
    raise SystemExit(main())

"""Fit SMPL-X-layout parameters to a 3D whole-body keypoint sequence.

    python -m experiments.fit_sequence IN.npz --out OUT.npz [--model open|PATH] [--fps F]
        [--config default|fast|realtime|smooth|independent]
        [--meshes DIR --mesh-frames 0,10|all --mesh-format obj|ply|glb]

IN.npz: ``keypoints3d (T, 133, 3)`` metres and ``scores (T, 133)``. OUT.npz: the smplx keyword
parameters (``betas``, ``expression``, ``global_orient``, ``transl``, ``body_pose``, ``jaw_pose``,
``leye_pose``, ``reye_pose``, ``left_hand_pose``, ``right_hand_pose`` with flat_hand_mean=True),
``joints (T, 55, 3)``, ``keypoints3d (T, 133, 3)`` of the fit, ``model`` and ``fps``. A plot of the
per-part residuals over time is written next to OUT (``OUT_residuals.png``); run records go to
``runs/fit_sequence/``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from body_models import load_model_file
from experiments.npz_io import load_npz, save_npz_atomic

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wbmocap fit", description=__doc__.splitlines()[0])
    p.add_argument("input", type=Path, help="npz with keypoints3d (T, 133, 3) and scores (T, 133)")
    p.add_argument("--out", required=True, type=Path, help="output parameters npz")
    p.add_argument("--model", default="open", help="'open' (default) or an SMPL-X file/folder")
    p.add_argument("--gender", default="neutral", choices=("neutral", "male", "female"))
    p.add_argument("--fps", type=float, default=None, help="frame rate (default: input fps or 30)")
    p.add_argument("--config", default="default", help="fitting preset")
    p.add_argument("--meshes", type=Path, default=None, help="folder for per-frame meshes")
    p.add_argument("--mesh-frames", default="0", help="comma-separated frames, or 'all'")
    p.add_argument("--mesh-format", default="obj", choices=("obj", "ply", "glb"))
    p.add_argument("--no-plot", action="store_true", help="skip the residual plot")
    p.add_argument("--run-dir", type=Path, default=Path("runs/fit_sequence"))
    return p


def plot_residuals(path: Path, residuals: np.ndarray, fps: float) -> Path:
    """Per-part mean residual (mm) over time, matplotlib Agg."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from wholebody.keypoints import COCO_WHOLEBODY

    t = np.arange(len(residuals)) / fps
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for part, idx in COCO_WHOLEBODY.parts.items():
        vals = residuals[:, idx] * 1000.0
        counts = np.sum(np.isfinite(vals), 1)
        mean = np.where(counts > 0, np.nansum(vals, 1) / np.maximum(counts, 1), np.nan)
        ax.plot(t, mean, label=part)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mean residual (mm)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _mesh_frames(spec: str, T: int) -> list[int]:
    if spec == "all":
        return list(range(T))
    try:
        frames = [int(s) for s in spec.split(",") if s.strip()]
    except ValueError as err:
        raise ValueError(
            f"--mesh-frames: expected 'all' or integers like 0,10, got {spec!r}"
        ) from err
    bad = [f for f in frames if not 0 <= f < T]
    if bad:
        raise ValueError(f"--mesh-frames: frames {bad} outside [0, {T})")
    return frames


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from body_models.fitting import fit_sequence, get_config
    from body_models.forward import body_forward
    from body_models.mesh_io import write_frames

    data = load_npz(args.input, required=("keypoints3d", "scores"))
    model = load_model_file(args.model, args.gender)
    cfg = get_config(args.config)
    fps = float(args.fps or data.get("fps", 30.0))
    T = int(np.shape(data["keypoints3d"])[0])
    frames = _mesh_frames(args.mesh_frames, T) if args.meshes else []
    total = sum(s.iterations for s in cfg.stages)
    start = time.perf_counter()
    args.run_dir.mkdir(parents=True, exist_ok=True)
    metrics = open(args.run_dir / "metrics.jsonl", "w")
    with tqdm(total=total, desc="fit", unit="it") as bar:

        def progress(rec: dict) -> None:
            bar.update(1)
            bar.set_postfix(stage=rec["stage"], cost=f"{rec['cost']:.3g}")
            metrics.write(json.dumps(rec) + "\n")
            metrics.flush()

        result = fit_sequence(model, data["keypoints3d"], data["scores"], cfg, callback=progress,
                              fps=fps)  # fmt: skip
    metrics.close()
    seconds = time.perf_counter() - start
    out = dict(result.params)
    out.update(joints=result.joints, keypoints3d=result.keypoints, model=np.array(model.path),
               fps=np.array(fps))  # fmt: skip
    save_npz_atomic(args.out, out)
    mean_mm = (
        float(np.nanmean(result.residuals) * 1000)
        if np.isfinite(result.residuals).any()
        else float("nan")
    )
    summary = {"input": str(args.input), "out": str(args.out), "model": model.path, "frames": T,
               "seconds": seconds, "frames_per_s": T / seconds, "mean_residual_mm": mean_mm,
               "config": args.config}  # fmt: skip
    (args.run_dir / "config.json").write_text(json.dumps(summary, indent=2))
    if not args.no_plot:
        plot = plot_residuals(args.out.with_name(args.out.stem + "_residuals.png"),
                              result.residuals, fps)  # fmt: skip
        log.info("residual plot: %s", plot)
    if frames:
        verts = body_forward(model, result.params, vertices=True).vertices
        paths = write_frames(args.meshes, verts[frames], model.faces, range(len(frames)),
                             args.mesh_format)  # fmt: skip
        for f, pth in zip(frames, paths):  # name files by their frame number
            pth.replace(pth.with_name(f"frame_{f:05d}.{args.mesh_format}"))
    log.info(
        "fitted %d frames in %.1f s, mean residual %.1f mm -> %s", T, seconds, mean_mm, args.out
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

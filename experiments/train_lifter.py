"""Train the temporal lifter on Human3.6M or on CMU mocap seen by virtual cameras.

    python -m experiments.train_lifter --data DIR [--keypoints2d data_2d_h36m_cpn_ft_h36m_dbb.npz]
    python -m experiments.train_lifter --cmu [BVH ...] --preset small --epochs 20
    python -m experiments.train_lifter --motionbert-pkl PKL --preset motionbert --clip-len 243
    python -m experiments.train_lifter ... --name NAME --resume

PKL is MotionBERT's ``h36m_sh_conf_cam_source_final.pkl`` (training then happens in its
network space, validated with its protocol). Writes ``runs/NAME/config.json``,
``metrics.jsonl`` (one line per epoch, validation MPJPE in mm) and ``checkpoints/last``
(weights + config with the input normalisation + optimizer state).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path

import numpy as np
from flax import nnx
from tqdm import tqdm

from lifting import create_model, get_config
from lifting.data import (
    TEST_SUBJECTS,
    TRAIN_SUBJECTS,
    ClipData,
    VirtualCameraConfig,
    h36m_sequences,
    load_h36m_2d,
    load_h36m_3d,
    make_clips,
    virtual_camera_sequences,
)
from lifting.losses import LossWeights
from lifting.normalize import INPUT_NORMS
from lifting.train import TrainConfig, config_dict, train

log = logging.getLogger(__name__)


def h36m_clips(args) -> tuple[ClipData, ClipData]:
    """Train (S1, S5-S8) and validation (S9, S11) clips from a VideoPose3D data directory."""
    pos3d = load_h36m_3d(args.data / "data_3d_h36m.npz")
    pos2d = load_h36m_2d(args.data / args.keypoints2d)[0] if args.keypoints2d else None
    subjects = [s for s in TRAIN_SUBJECTS if s in pos3d]
    train_seqs = h36m_sequences(pos3d, pos2d, subjects)
    val_seqs = h36m_sequences(pos3d, pos2d, [s for s in TEST_SUBJECTS if s in pos3d])
    return _clips(train_seqs, val_seqs, args)


def cmu_sequences(args) -> tuple[list, list]:
    """Virtual-camera sequences: the first 80 % of each BVH for training, the rest held out."""
    from experiments.cmu_mocap import DEFAULT_BVH, load_cmu_h36m, split_frames

    paths = args.cmu or list(DEFAULT_BVH)
    rng = np.random.default_rng(args.seed)
    cams = VirtualCameraConfig(noise_px=args.noise_px)
    train_w, val_w, names = [], [], []
    for p in paths:
        a, b = split_frames(load_cmu_h36m(p, fps=args.fps), args.holdout)
        train_w.append(a)
        val_w.append(b)
        names.append(Path(p).stem)
    train_seqs = virtual_camera_sequences(train_w, args.cameras, rng, config=cams, names=names)
    val_seqs = virtual_camera_sequences(val_w, args.cameras, rng, config=cams, names=names)
    return train_seqs, val_seqs


def cmu_clips(args) -> tuple[ClipData, ClipData]:
    """Train / held-out clips of `cmu_sequences`."""
    return _clips(*cmu_sequences(args), args)


def motionbert_clips(args):
    """MotionBERT's pickle: train clips in its network space (root-relative 2.5D) and a
    validation function running its protocol on the test split (mm)."""
    from lifting.data import load_motionbert_pkl, motionbert_split_clips
    from lifting.inference import make_predictor
    from lifting.protocol import evaluate_motionbert_split

    data = load_motionbert_pkl(args.motionbert_pkl)
    train_split, test = data["train"], data["test"]
    idx = motionbert_split_clips(
        train_split.source, args.clip_len, args.stride or args.clip_len // 3
    )
    if args.max_clips and len(idx) > args.max_clips:
        idx = idx[np.random.default_rng(args.seed).choice(len(idx), args.max_clips, False)]
    y = train_split.normalized_target()[idx]
    train_data = ClipData(
        train_split.normalized_input()[idx], y - y[..., :1, :], np.zeros(len(idx))
    )
    test_idx = motionbert_split_clips(test.source, args.clip_len, args.clip_len)
    test_x = test.normalized_input()[test_idx]

    def val_fn(model) -> dict[str, float]:
        predict = make_predictor(model, batch_size=64)
        table = evaluate_motionbert_split(test, predict(test_x), test_idx)
        return {"val_mpjpe_mm": table.average("mpjpe"), "val_p_mpjpe_mm": table.average("p_mpjpe")}

    return train_data, val_fn


def _clips(train_seqs, val_seqs, args) -> tuple[ClipData, ClipData]:
    stride = args.stride or max(1, args.clip_len // 3)
    train_data = make_clips(train_seqs, args.clip_len, stride, "resample", args.input_norm)
    val_data = make_clips(val_seqs, args.clip_len, args.clip_len, "last", args.input_norm)
    if args.max_clips and len(train_data) > args.max_clips:
        keep = np.random.default_rng(args.seed).choice(len(train_data), args.max_clips, False)
        train_data = ClipData(
            train_data.inputs[keep], train_data.targets[keep], train_data.source[keep]
        )
    return train_data, val_data


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wbmocap train-lifter",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", type=Path, help="directory with VideoPose3D's data_3d_h36m.npz")
    src.add_argument("--cmu", nargs="*", type=Path, help="CMU BVH files (default: assimp's)")
    src.add_argument("--motionbert-pkl", type=Path, help="MotionBERT's H36M pickle (SH + conf)")
    p.add_argument("--keypoints2d", help="2D npz in --data (default: projected ground truth)")
    p.add_argument("--preset", default="small", help="lifter preset (tiny, small, ...)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--lr-decay", type=float, default=0.99)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--loss-weights", type=float, nargs=3, default=(1.0, 0.5, 20.0),
                   metavar=("MPJPE", "N_MPJPE", "VELOCITY"))  # fmt: skip
    p.add_argument("--flip-p", type=float, default=0.5)
    p.add_argument("--clip-len", type=int, default=27)
    p.add_argument("--stride", type=int, default=0, help="training clip stride (0: clip_len/3)")
    p.add_argument("--input-norm", choices=INPUT_NORMS, default="screen")
    p.add_argument("--max-clips", type=int, default=0, help="subsample training clips (0: all)")
    p.add_argument("--cameras", type=int, default=4, help="virtual cameras per CMU sequence")
    p.add_argument("--fps", type=float, default=30.0, help="CMU frame rate after resampling")
    p.add_argument("--holdout", type=float, default=0.2, help="held-out fraction of CMU frames")
    p.add_argument("--noise-px", type=float, default=0.0, help="2D noise for CMU data, pixels")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default="lifter", help="run name under --runs-dir")
    p.add_argument("--runs-dir", type=Path, default=Path("runs"))
    p.add_argument("--resume", action="store_true", help="continue runs/NAME/checkpoints/last")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    model_cfg = get_config(args.preset)
    if args.clip_len > model_cfg.maxlen:
        raise SystemExit(
            f"--clip-len {args.clip_len} exceeds the preset's maxlen {model_cfg.maxlen}"
        )
    val_fn = None
    if args.motionbert_pkl is not None:
        train_data, val_fn = motionbert_clips(args)
        val_data = None
    elif args.data is not None:
        train_data, val_data = h36m_clips(args)
    else:
        train_data, val_data = cmu_clips(args)
    n_val = len(val_data) if val_data is not None else 0
    log.info("clips: %d train, %d validation", len(train_data), n_val)
    cfg = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        lr_decay=args.lr_decay,
        weight_decay=args.weight_decay,
        loss=LossWeights(*args.loss_weights),
        flip_p=args.flip_p,
        seed=args.seed,
    )
    run_dir = args.runs_dir / args.name
    run_dir.mkdir(parents=True, exist_ok=True)
    meta = {
        "input_norm": args.input_norm,
        "clip_len": args.clip_len,
        "keypoint_set": "h36m",
        "output_unit": "m" if args.motionbert_pkl is None else "normalized",
        "root_relative": True,
    }
    if args.motionbert_pkl is not None:
        meta["input_norm"] = "screen"  # MotionBERT's H36M inputs are screen-normalised
    record = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "train": config_dict(cfg),
        "model": dataclasses.asdict(model_cfg),
        "meta": meta,
        "clips": {"train": len(train_data), "validation": n_val},
    }
    record["args"]["cmu"] = [str(p) for p in args.cmu] if args.cmu is not None else None
    (run_dir / "config.json").write_text(json.dumps(record, indent=2) + "\n")
    model = create_model(args.preset, rngs=nnx.Rngs(args.seed))
    state = run_dir / "checkpoints" / "last" / "train_state.json"
    done = json.loads(state.read_text())["epoch"] if args.resume and state.is_file() else 0
    bar = tqdm(total=args.epochs, initial=min(done, args.epochs), desc="epochs", unit="epoch")

    def progress(info: dict) -> None:
        if "record" in info:
            rec = info["record"]
            bar.update(1)
            bar.set_postfix(loss=f"{rec['loss']:.4f}", val_mm=f"{rec.get('val_mpjpe_mm', 0):.1f}")

    history = train(model, train_data, cfg, run_dir, val_data, meta, args.resume, progress, val_fn)
    bar.close()
    if history:
        last = history[-1]
        print(
            f"epoch {last['epoch']}: validation MPJPE {last['val_mpjpe_mm']:.1f} mm, "
            f"P-MPJPE {last['val_p_mpjpe_mm']:.1f} mm; checkpoint {run_dir / 'checkpoints/last'}"
        )
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main())

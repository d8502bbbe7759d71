"""Score Human3.6M predictions with the standard protocol and print the per-action table.

    python -m experiments.eval_h36m --data DIR --predictions PRED.npz [--out M.json]
    python -m experiments.eval_h36m --data DIR --checkpoint CKPT [--keypoints2d FILE.npz]
    python -m experiments.eval_h36m --motionbert-pkl PKL --checkpoint MB_ft_h36m.bin --flip-tta

DIR holds VideoPose3D's ``data_3d_h36m.npz``. PRED.npz holds one array per sequence, key
``"{subject}/{action}/{camera_index}"`` (e.g. ``"S9/Directions 1/0"``), shape (N, 17, 3),
metres, camera frame, every frame. Protocol #1 (MPJPE) and #2 (P-MPJPE) are printed per
action in mm; averages go to ``--out`` as JSON. ``--scheme motionbert`` scores only the frames
of non-overlapping ``--clip-len`` clips (see ``lifting.protocol``). ``--motionbert-pkl PKL``
(MotionBERT's ``h36m_sh_conf_cam_source_final.pkl``) reproduces MotionBERT's own evaluation
(SH detections with confidence, 2.5D factor, three S9 sequences excluded) for checkpoints that
predict in its network space (converted MotionBERT weights).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import numpy as np

from lifting.data import (
    TEST_SUBJECTS,
    action_group,
    clip_indices,
    ground_truth_camera_frame,
    h36m_sequences,
    load_h36m_2d,
    load_h36m_3d,
    sequence_input,
)
from lifting.protocol import SCHEMES, evaluate_sequences

log = logging.getLogger(__name__)


def load_predictions(path: Path) -> dict[str, np.ndarray]:
    """PRED.npz -> ``{key: (N, 17, 3)}``; ValueError for unreadable files or bad shapes."""
    from experiments.npz_io import load_npz

    preds = load_npz(path)
    for key, arr in preds.items():
        if key.count("/") != 2:
            raise ValueError(f"{path}: key {key!r} is not 'subject/action/camera_index'")
        if arr.ndim != 3 or arr.shape[1:] != (17, 3):
            raise ValueError(f"{path}: {key} expected shape (N, 17, 3), got {arr.shape}")
    return preds


def make_lifter_predictor(model, flip_tta: bool, batch_size: int = 32, dtype: str = "float32"):
    """The shared predictor (``lifting.inference.make_predictor``), flip-averaged on request."""
    from lifting.inference import flip_indices_for, make_predictor
    from lifting.inference import flip_tta as with_flip

    predict = make_predictor(model, dtype=dtype, batch_size=batch_size)
    return with_flip(predict, flip_indices_for(model.config)) if flip_tta else predict


def predict_sequences(
    checkpoint: Path, sequences, flip_tta: bool, batch_size: int = 32, dtype: str = "float32"
):
    """Run a trained lifter over whole sequences (clips of half-overlap, frames averaged)."""
    from lifting.inference import lift_clips

    model = load_lifter(checkpoint)
    meta = model.config.meta
    if meta.get("output_unit", "m") != "m":
        raise ValueError(
            f"{checkpoint} predicts in {meta['output_unit']!r} units, not metres: score it "
            "with --motionbert-pkl (MotionBERT's network space and 2.5D factors)"
        )
    input_norm = meta.get("input_norm", "screen")
    n = int(meta.get("clip_len", model.config.maxlen))
    predict = make_lifter_predictor(model, flip_tta, batch_size, dtype)
    out = {}
    for seq in sequences:
        idx = clip_indices(
            len(seq), n, max(1, n // 2), tail="last" if len(seq) >= n else "resample"
        )
        out[seq.name] = lift_clips(predict, sequence_input(seq, input_norm), idx)
    return out


def load_lifter(checkpoint: Path):
    """A lifting checkpoint, or a MotionBERT ``.bin``/``.pth`` converted on the fly."""
    from lifting import load_checkpoint

    if not checkpoint.exists():
        raise ValueError(f"lifter checkpoint not found: {checkpoint}")
    if checkpoint.suffix in (".bin", ".pth", ".pt"):
        from lifting.convert_motionbert import load_motionbert

        return load_motionbert(checkpoint)
    return load_checkpoint(checkpoint)


def eval_motionbert_pkl(args):
    """MotionBERT's protocol on its pickle's test split -> `ActionTable` in mm."""
    from lifting.data import load_motionbert_pkl, motionbert_split_clips
    from lifting.protocol import evaluate_motionbert_split

    if args.checkpoint is None:
        raise ValueError("--motionbert-pkl needs --checkpoint (MotionBERT-space predictions)")
    test = load_motionbert_pkl(args.motionbert_pkl)["test"]
    model = load_lifter(args.checkpoint)
    clip_len = int(model.config.meta.get("clip_len", min(args.clip_len, model.config.maxlen)))
    idx = motionbert_split_clips(test.source, clip_len, clip_len)
    x = test.normalized_input()[idx]
    pred = make_lifter_predictor(model, args.flip_tta, args.batch_size, args.dtype)(x)
    return evaluate_motionbert_split(test, pred, idx)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="wbmocap eval-h36m",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = p.add_mutually_exclusive_group(required=True)
    data.add_argument("--data", type=Path, help="directory with data_3d_h36m.npz")
    data.add_argument("--motionbert-pkl", type=Path, help="MotionBERT's H36M pickle")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--predictions", type=Path, help="npz: one (N, 17, 3) array per subject/action/camera_index"
    )
    src.add_argument("--checkpoint", type=Path, help="lifter checkpoint (or MotionBERT .bin)")
    p.add_argument("--batch-size", type=int, default=32, help="clips per forward pass")
    p.add_argument("--dtype", choices=("float32", "bfloat16", "int8"), default="float32",
                   help="lifter precision (int8: onnxruntime, lifting.onnx_backend)")  # fmt: skip
    p.add_argument("--keypoints2d", help="2D npz in --data for --checkpoint (default: GT proj.)")
    p.add_argument("--flip-tta", action="store_true", help="flip test-time augmentation")
    p.add_argument("--out", type=Path, help="write averages and the table as JSON")
    p.add_argument("--scheme", choices=SCHEMES, default="videopose3d")
    p.add_argument("--clip-len", type=int, default=243, help="clip length of --scheme motionbert")
    p.add_argument("--subjects", default=",".join(TEST_SUBJECTS))
    p.add_argument("--exclude", nargs="*", default=[], help="keys or prefixes, e.g. 'S9/Greeting/'")
    args = p.parse_args(argv)
    subjects = [s for s in args.subjects.split(",") if s]
    try:
        if args.motionbert_pkl is not None:
            return _report(eval_motionbert_pkl(args), args, "motionbert-pkl", scale=1.0)
        pos3d = load_h36m_3d(args.data / "data_3d_h36m.npz")
        gt = ground_truth_camera_frame(pos3d, subjects)
        if args.predictions is not None:
            preds = load_predictions(args.predictions)
        else:
            pos2d = load_h36m_2d(args.data / args.keypoints2d)[0] if args.keypoints2d else None
            seqs = h36m_sequences(pos3d, pos2d, subjects)
            preds = predict_sequences(
                args.checkpoint, seqs, args.flip_tta, args.batch_size, args.dtype
            )
        actions = {k: action_group(k.split("/")[1]) for k in gt}
        table = evaluate_sequences(
            preds, gt, actions, args.scheme, args.clip_len, ("mpjpe", "p_mpjpe"), args.exclude
        )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return _report(table, args, args.scheme, scale=1000.0, subjects=subjects)


def _report(table, args, scheme: str, scale: float, subjects=None) -> int:
    """Print the table (mm) and write the JSON summary to ``--out``."""
    print(table.format(scale=scale, unit="mm"))
    result = {
        "scheme": scheme,
        "subjects": subjects,
        "mpjpe_mm": scale * table.average("mpjpe"),
        "p_mpjpe_mm": scale * table.average("p_mpjpe"),
        "per_action_mm": {
            m: {a: scale * v for a, v in per.items()} for m, per in table.errors.items()
        },
        "frames": table.frames,
    }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_name(f".{args.out.name}.tmp")
        tmp.write_text(json.dumps(result, indent=2) + "\n")
        os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main())

"""Score Human3.6M predictions with the standard protocol and print the per-action table.

    python -m experiments.eval_h36m --data DIR --predictions PRED.npz [--out M.json]
    python -m experiments.eval_h36m --data DIR --checkpoint CKPT [--keypoints2d FILE.npz]

DIR holds VideoPose3D's ``data_3d_h36m.npz``. PRED.npz holds one array per sequence, key
``"{subject}/{action}/{camera_index}"`` (e.g. ``"S9/Directions 1/0"``), shape (N, 17, 3),
metres, camera frame, every frame. Protocol #1 (MPJPE) and #2 (P-MPJPE) are printed per
action in mm; averages go to ``--out`` as JSON. ``--scheme motionbert`` scores only the frames
of non-overlapping ``--clip-len`` clips (see ``lifting.protocol``).
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
    flip_pose,
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


def predict_sequences(checkpoint: Path, sequences, flip_tta: bool, batch_size: int = 32):
    """Run a trained lifter over whole sequences (overlapping clips, predictions averaged)."""
    from lifting import load_checkpoint
    from lifting.train import predict

    model = load_checkpoint(checkpoint)
    meta = model.config.meta
    input_norm = meta.get("input_norm", "screen")
    n = int(meta.get("clip_len", model.config.maxlen))
    out = {}
    for seq in sequences:
        x = sequence_input(seq, input_norm)
        idx = clip_indices(
            len(seq), n, max(1, n // 2), tail="last" if len(seq) >= n else "resample"
        )
        pred = predict(model, x[idx], batch_size)
        if flip_tta:
            pred = 0.5 * (pred + flip_pose(predict(model, flip_pose(x[idx]), batch_size)))
        total = np.zeros((len(seq), 17, 3))
        count = np.zeros(len(seq))
        np.add.at(total, idx.ravel(), pred.reshape(-1, 17, 3))
        np.add.at(count, idx.ravel(), 1.0)
        out[seq.name] = total / np.maximum(count, 1)[:, None, None]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="wbmocap eval-h36m", description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="directory with data_3d_h36m.npz")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--predictions", type=Path, help="PRED.npz (see above)")
    src.add_argument("--checkpoint", type=Path, help="lifter checkpoint to predict with")
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
        pos3d = load_h36m_3d(args.data / "data_3d_h36m.npz")
        gt = ground_truth_camera_frame(pos3d, subjects)
        if args.predictions is not None:
            preds = load_predictions(args.predictions)
        else:
            pos2d = load_h36m_2d(args.data / args.keypoints2d)[0] if args.keypoints2d else None
            seqs = h36m_sequences(pos3d, pos2d, subjects)
            preds = predict_sequences(args.checkpoint, seqs, args.flip_tta)
        actions = {k: action_group(k.split("/")[1]) for k in gt}
        table = evaluate_sequences(
            preds, gt, actions, args.scheme, args.clip_len, ("mpjpe", "p_mpjpe"), args.exclude
        )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(table.format(scale=1000.0, unit="mm"))
    result = {
        "scheme": args.scheme,
        "subjects": subjects,
        "mpjpe_mm": 1000 * table.average("mpjpe"),
        "p_mpjpe_mm": 1000 * table.average("p_mpjpe"),
        "per_action_mm": {
            m: {a: 1000 * v for a, v in per.items()} for m, per in table.errors.items()
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

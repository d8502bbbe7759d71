"""Evaluate a COCO-WholeBody results file: per-part AP/AR (body, foot, face, hands, whole-body).

    python -m experiments.eval_coco_wholebody --gt ANN.json --results RES.json [--out M.json]
        [--rescore] [--kpt-thr 0.2] [--nms-thr 0.9]
    python -m experiments.eval_coco_wholebody --gt ANN.json --model WEIGHTS --images DIR
        [--flip-test] [--save-results RES.json] [--out M.json]

The second form predicts every ground-truth box with a model (weights directory, .safetensors
or MMPose .pth; ``wholebody.checkpoint.load_model``), optionally with flip test, then evaluates.

``--rescore`` applies MMPose's ``bbox_keypoint`` rescoring and OKS-NMS before evaluating (use it
when ``score`` holds the person-box score). Prints the table; ``--out`` gets
``{part: {"AP": ..., "AR": ...}}`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path

from wholebody.evaluation.cocoeval_wholebody import PARTS, evaluate_wholebody, format_table
from wholebody.evaluation.rescore import rescore_and_nms
from wholebody.evaluation.results_io import read_results, write_results

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="eval_coco_wholebody", description=__doc__.split("\n")[0])
    p.add_argument("--gt", required=True, help="COCO-WholeBody annotation JSON")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--results", help="results JSON (xtcocotools whole-body format)")
    src.add_argument("--model", help="weights to predict the ground-truth boxes with")
    p.add_argument("--images", help="image root for --model (default: the GT file's dir/images)")
    p.add_argument("--flip-test", action="store_true", help="with --model: average flipped logits")
    p.add_argument("--batch-size", type=int, default=32, help="with --model")
    p.add_argument("--save-results", help="with --model: also write the predictions here")
    p.add_argument("--out", help="write the metrics JSON here")
    p.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS)
    p.add_argument("--rescore", action="store_true", help="bbox_keypoint rescoring + OKS-NMS")
    p.add_argument("--kpt-thr", type=float, default=0.2, help="keypoint score threshold")
    p.add_argument("--nms-thr", type=float, default=0.9, help="OKS-NMS threshold (<=0: off)")
    return p


def write_json_atomic(path: str | os.PathLike, obj) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


def predict_with_model(args) -> list[dict]:
    """Predictions of ``args.model`` for every ground-truth box of ``args.gt``."""
    from wholebody.checkpoint import load_model
    from wholebody.data.coco_wholebody import CocoWholeBodyDataset, codec_kwargs
    from wholebody.training.validate import predict_dataset

    model = load_model(args.model)
    gt = Path(args.gt)
    root = Path(args.images) if args.images else gt.parent / "images"
    data = CocoWholeBodyDataset(gt, root, train=False, **codec_kwargs(model.config))

    results = predict_dataset(model, data, args.batch_size, flip_test=args.flip_test)
    if args.save_results:
        write_results(args.save_results, results)
    return results


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.model:
        results = predict_with_model(args)
    else:
        results = read_results(args.results)
    if args.rescore:
        results = rescore_and_nms(results, args.kpt_thr, args.nms_thr if args.nms_thr > 0 else None)
    start = time.perf_counter()
    metrics = evaluate_wholebody(args.gt, results, parts=args.parts)
    logger.info("evaluated %d results in %.3f s", len(results), time.perf_counter() - start)
    print(format_table(metrics))
    if args.out:
        write_json_atomic(args.out, metrics)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: COCO-WholeBody evaluation time of ``wholebody.evaluation`` vs pycocotools.

    python -m experiments.bench_eval_wholebody [--images 5000] [--xtcocotools /path/to/python]

Data: the synthetic ground truth + noisy results of ``wholebody.evaluation.synthetic_set``
(~1.9 people per image). Peers, measured in the same run on the same data:
pycocotools ``COCOeval('keypoints')`` on the 133 keypoints concatenated (one pass, the
whole-body pass only) and optionally xtcocotools (a numpy<2 interpreter, all six passes).
Prints seconds and ratios; timings on a shared machine are noisy, so the ratios matter.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from wholebody.evaluation.coco_arrays import detection_arrays, ground_truth_arrays
from wholebody.evaluation.cocoeval_wholebody import PARTS, evaluate_part, part_keypoints
from wholebody.evaluation.results_io import PART_FIELDS
from wholebody.evaluation.synthetic_set import make_eval_set
from wholebody.keypoints import COCO_WHOLEBODY

_XTCO = """
import contextlib, io, json, sys, time
import numpy as np
from xtcocotools.coco import COCO
from xtcocotools.cocoeval import COCOeval
gt_path, res_path, sigmas = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
t0 = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    coco = COCO(gt_path); det = coco.loadRes(res_path)
    t1 = time.perf_counter()
    out = {}
    for part, (iou, sl) in sigmas.items():
        ev = COCOeval(coco, det, iou, np.array(sl), use_area=True)
        ev.evaluate(); ev.accumulate(); ev.summarize()
        out[part] = [float(ev.stats[0]), float(ev.stats[5]), time.perf_counter()]
print(json.dumps({"load": t1 - t0, "parts": out, "t1": t1}))
"""
_XT_TYPES = {"body": "keypoints_body", "foot": "keypoints_foot", "face": "keypoints_face",
             "left_hand": "keypoints_lefthand", "right_hand": "keypoints_righthand",
             "wholebody": "keypoints_wholebody"}  # fmt: skip


def _concat_133(anns: list[dict], gt: bool) -> list[dict]:
    """Records with the 5 part fields concatenated into ``keypoints`` (pycocotools peer)."""
    out = []
    for a in anns:
        rec = {k: v for k, v in a.items() if k not in PART_FIELDS.values()}
        kp = [v for f in PART_FIELDS.values() for v in a[f]]
        rec["keypoints"] = kp
        if gt:
            rec["num_keypoints"] = sum(1 for v in kp[2::3] if v > 0)
        out.append(rec)
    return out


def time_pycocotools(gt: dict, results: list) -> tuple[float, float, tuple[float, float]]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt133 = {**gt, "annotations": _concat_133(gt["annotations"], True)}
    res133 = _concat_133(results, False)
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        coco = COCO()
        coco.dataset = gt133
        coco.createIndex()
        det = coco.loadRes(copy.deepcopy(res133))
        t1 = time.perf_counter()
        ev = COCOeval(coco, det, "keypoints")
        ev.params.kpt_oks_sigmas = np.asarray(COCO_WHOLEBODY.sigmas)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1, (float(ev.stats[0]), float(ev.stats[5]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench_eval_wholebody", description=__doc__.split("\n")[0])
    p.add_argument("--images", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3, help="best of N for our evaluator")
    p.add_argument("--xtcocotools", help="python interpreter with xtcocotools (numpy<2)")
    args = p.parse_args(argv)
    gt, results = make_eval_set(num_images=args.images, seed=args.seed)
    print(f"data: {args.images} images, {len(gt['annotations'])} ground-truth people, "
          f"{len(results)} predictions")  # fmt: skip
    load, whole, all_parts = [], [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        g = ground_truth_arrays(gt)
        d = detection_arrays(results, g)
        t1 = time.perf_counter()
        ours = evaluate_part(g, d, "wholebody")
        t2 = time.perf_counter()
        for part in PARTS[:-1]:
            evaluate_part(g, d, part)
        t3 = time.perf_counter()
        load.append(t1 - t0)
        whole.append(t2 - t1)
        all_parts.append(t3 - t1)
    py_load, py_eval, py_stats = time_pycocotools(gt, results)
    print(
        f"ours        load {min(load):.3f} s | whole-body pass {min(whole):.3f} s | "
        f"all 6 passes {min(all_parts):.3f} s | AP {ours['AP']:.4f} AR {ours['AR']:.4f}"
    )
    print(
        f"pycocotools load {py_load:.3f} s | whole-body pass {py_eval:.3f} s | "
        f"AP {py_stats[0]:.4f} AR {py_stats[1]:.4f} (133 concatenated keypoints)"
    )
    print(f"speed-up whole-body pass vs pycocotools: {py_eval / min(whole):.1f}x; "
          f"incl. loading: {(py_load + py_eval) / (min(load) + min(whole)):.1f}x")  # fmt: skip
    if args.xtcocotools:
        sig = {
            part: (_XT_TYPES[part], COCO_WHOLEBODY.sigmas[part_keypoints(part)].tolist())
            for part in PARTS
        }
        with tempfile.TemporaryDirectory() as tmp:
            gp, rp = Path(tmp) / "gt.json", Path(tmp) / "res.json"
            gp.write_text(json.dumps(gt))
            rp.write_text(json.dumps(results))
            cmd = [args.xtcocotools, "-c", _XTCO, str(gp), str(rp), json.dumps(sig)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        xt = json.loads(proc.stdout.strip().splitlines()[-1])
        ends = [xt["t1"]] + [v[2] for v in xt["parts"].values()]
        per_part = dict(zip(xt["parts"], np.diff(ends), strict=True))
        total = sum(per_part.values())
        xt_whole = per_part["wholebody"]
        xt_ap, xt_ar = xt["parts"]["wholebody"][:2]
        print(
            f"xtcocotools load {xt['load']:.3f} s | whole-body pass {xt_whole:.3f} s | "
            f"all 6 passes {total:.3f} s | AP {xt_ap:.4f} AR {xt_ar:.4f}"
        )
        print(
            f"speed-up vs xtcocotools: whole-body pass {xt_whole / min(whole):.1f}x; "
            f"all 6 passes {total / min(all_parts):.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

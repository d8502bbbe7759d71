"""Produce ``expected_eval.json``: xtcocotools' COCO-WholeBody numbers on the synthetic set.

Run with a numpy<2 environment that has xtcocotools (its wheel breaks under numpy>=2):

    python3 -m venv /work/xtco-venv && /work/xtco-venv/bin/pip install "numpy<2" xtcocotools
    /work/xtco-venv/bin/python tests/wholebody/data/make_expected_eval.py

The sigmas below are typed in from xtcocoapi's ``demos/demo_coco_wholebody.py`` (identical to
MMPose's ``coco_wholebody.py`` dataset card), independently of ``wholebody.keypoints``; the
calls mirror MMPose's ``CocoWholeBodyMetric`` (``use_area=True``, one pass per part).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import sys
from pathlib import Path

import numpy as np
from xtcocotools.coco import COCO
from xtcocotools.cocoeval import COCOeval

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
from wholebody.evaluation.synthetic_set import fingerprint, make_eval_set  # noqa: E402

BODY = [
    0.026,
    0.025,
    0.025,
    0.035,
    0.035,
    0.079,
    0.079,
    0.072,
    0.072,
    0.062,
    0.062,
    0.107,
    0.107,
    0.087,
    0.087,
    0.089,
    0.089,
]
FOOT = [0.068, 0.066, 0.066, 0.092, 0.094, 0.094]
FACE = [
    0.042,
    0.043,
    0.044,
    0.043,
    0.040,
    0.035,
    0.031,
    0.025,
    0.020,
    0.023,
    0.029,
    0.032,
    0.037,
    0.038,
    0.043,
    0.041,
    0.045,
    0.013,
    0.012,
    0.011,
    0.011,
    0.012,
    0.012,
    0.011,
    0.011,
    0.013,
    0.015,
    0.009,
    0.007,
    0.007,
    0.007,
    0.012,
    0.009,
    0.008,
    0.016,
    0.010,
    0.017,
    0.011,
    0.009,
    0.011,
    0.009,
    0.007,
    0.013,
    0.008,
    0.011,
    0.012,
    0.010,
    0.034,
    0.008,
    0.008,
    0.009,
    0.008,
    0.008,
    0.007,
    0.010,
    0.008,
    0.009,
    0.009,
    0.009,
    0.007,
    0.007,
    0.008,
    0.011,
    0.008,
    0.008,
    0.008,
    0.01,
    0.008,
]
HAND = [
    0.029,
    0.022,
    0.035,
    0.037,
    0.047,
    0.026,
    0.025,
    0.024,
    0.035,
    0.018,
    0.024,
    0.022,
    0.026,
    0.017,
    0.021,
    0.021,
    0.032,
    0.02,
    0.019,
    0.022,
    0.031,
]
PASSES = {
    "body": ("keypoints_body", BODY),
    "foot": ("keypoints_foot", FOOT),
    "face": ("keypoints_face", FACE),
    "left_hand": ("keypoints_lefthand", HAND),
    "right_hand": ("keypoints_righthand", HAND),
    "wholebody": ("keypoints_wholebody", BODY + FOOT + FACE + HAND + HAND),
}
STAT_NAMES = [
    "AP",
    "AP .5",
    "AP .75",
    "AP (M)",
    "AP (L)",
    "AR",
    "AR .5",
    "AR .75",
    "AR (M)",
    "AR (L)",
]
CASES = {
    "default": {"num_images": 60, "seed": 0},
    "second": {"num_images": 40, "seed": 7},
    "third": {"num_images": 150, "seed": 3},
    "extras": {"num_images": 60, "seed": 5, "extras": True},
}


def xtcocotools_metrics(gt: dict, results: list, tmp: Path) -> dict:
    gt_path, res_path = tmp / "gt.json", tmp / "res.json"
    gt_path.write_text(json.dumps(gt))
    res_path.write_text(json.dumps(results))
    out = {}
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(gt_path))
        coco_det = coco.loadRes(str(res_path))
        for part, (iou_type, sigmas) in PASSES.items():
            ev = COCOeval(coco, copy.deepcopy(coco_det), iou_type, np.array(sigmas), use_area=True)
            ev.params.useSegm = None
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            out[part] = dict(zip(STAT_NAMES, [float(v) for v in ev.stats]))
    return out


def main() -> None:
    import tempfile
    from importlib.metadata import version

    expected = {"xtcocotools": version("xtcocotools"), "numpy": np.__version__, "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, kwargs in CASES.items():
            gt, results = make_eval_set(**kwargs)
            expected["cases"][name] = {
                "kwargs": kwargs,
                "sha256": fingerprint(gt, results),
                "metrics": xtcocotools_metrics(gt, results, Path(tmp)),
            }
    path = Path(__file__).with_name("expected_eval.json")
    path.write_text(json.dumps(expected, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

"""Convert keypoint arrays in an npz file from one keypoint set to another, by name.

    python -m experiments.convert_keypoints IN.npz --src coco_wholebody --dst h36m --out OUT.npz

IN.npz holds ``keypoints (..., J_src, 2|3)`` and optionally ``scores (..., J_src)``; every other
array is copied through. Points the target needs but the source lacks get score 0.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

from experiments.npz_io import load_npz, save_npz_atomic
from wholebody.keypoints import KEYPOINT_SETS, convert_keypoints, get_keypoint_set

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wbmocap convert", description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("--src", required=True, choices=sorted(KEYPOINT_SETS))
    parser.add_argument("--dst", required=True, choices=sorted(KEYPOINT_SETS))
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--missing", default="zero", choices=("zero", "nan", "raise"))
    args = parser.parse_args(argv)
    data = load_npz(args.input, required=("keypoints",))
    src, dst = get_keypoint_set(args.src), get_keypoint_set(args.dst)
    kp, sc = convert_keypoints(data["keypoints"], data.get("scores"), src, dst, args.missing)
    data.update(keypoints=kp, scores=sc, keypoint_set=np.array(dst.name))
    save_npz_atomic(args.out, data)
    logging.getLogger().info("wrote %s: keypoints %s", args.out, kp.shape)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main())

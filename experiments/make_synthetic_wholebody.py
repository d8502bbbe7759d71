"""Render a small synthetic COCO-WholeBody dataset (figures with known 133 keypoints).

    python -m experiments.make_synthetic_wholebody --out data/synth --num-images 64 [--seed 0]

Writes ``OUT/images/*.png`` and ``OUT/annotations.json`` (usable by ``train_wholebody --data``
and ``eval_coco_wholebody --gt``).
"""

from __future__ import annotations

import argparse
import logging

from wholebody.data.synthetic import make_synthetic_dataset

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="make_synthetic_wholebody", description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--num-images", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", type=int, nargs=2, default=(256, 256), metavar=("W", "H"))
    p.add_argument("--max-people", type=int, default=2)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.num_images < 1 or args.max_people < 1:
        p.error("--num-images and --max-people must be >= 1")
    path = make_synthetic_dataset(
        args.out, args.num_images, args.seed, tuple(args.size), args.max_people
    )
    logger.info("wrote %s", path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""List keypoint sets, their parts, flip pairs and conversions.

python -m experiments.keypoint_sets                 # one line per set
python -m experiments.keypoint_sets coco_wholebody  # names, parts, flip pairs
python -m experiments.keypoint_sets coco_wholebody --to h36m   # how each target point is made
"""

from __future__ import annotations

import argparse
import sys

from wholebody.keypoints import KEYPOINT_SETS, conversion_plan, get_keypoint_set


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wbmocap keypoints", description=__doc__.splitlines()[0])
    parser.add_argument("set", nargs="?", help=f"one of {sorted(KEYPOINT_SETS)}")
    parser.add_argument("--to", help="show how this set converts to another set")
    args = parser.parse_args(argv)
    out = sys.stdout
    if args.set is None:
        for kset in KEYPOINT_SETS.values():
            parts = ", ".join(f"{p} {len(ix)}" for p, ix in kset.parts.items())
            tree = "tree" if kset.parents else "no tree"
            sig = "sigmas" if kset.sigmas is not None else "no sigmas"
            out.write(f"{kset.name:15s} {len(kset):4d}  [{parts}]  {tree}, {sig}\n")
        return 0
    try:
        kset = get_keypoint_set(args.set)
        target = get_keypoint_set(args.to) if args.to else None
    except ValueError as err:
        parser.error(str(err))
    if target is not None:
        for name, (kind, how) in zip(target.names, conversion_plan(kset, target)):
            detail = {"copy": lambda h: f"copy {kset.names[h]}",
                      "synth": lambda h: f"mean{h.sources}, score {h.score}",
                      "missing": lambda h: "missing (score 0)"}[kind](how)  # fmt: skip
            out.write(f"{name:24s} {detail}\n")
        return 0
    parents = kset.parents
    for i, name in enumerate(kset.names):
        parent = "" if parents is None or parents[i] < 0 else f" parent={kset.names[parents[i]]}"
        mirror = kset.names[kset.flip_indices[i]]
        flip = "" if mirror == name else f" flip={mirror}"
        sigma = "" if kset.sigmas is None else f" sigma={kset.sigmas[i]:.3f}"
        out.write(f"{i:4d} {name:24s}{parent}{flip}{sigma}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

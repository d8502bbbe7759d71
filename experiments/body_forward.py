"""Forward pass of an SMPL-X-layout body for a parameter file.

    python -m experiments.body_forward PARAMS.npz --out OUT.npz [--model open|PATH] [--vertices]

PARAMS.npz uses the smplx keyword names (as written by ``experiments.fit_sequence``); OUT.npz gets
``joints (T, 55, 3)``, ``keypoints3d (T, 133, 3)`` and, with ``--vertices``, ``vertices (T, V, 3)``
and ``faces (F, 3)``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from body_models import load_model_file
from experiments.npz_io import load_npz, save_npz_atomic

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wbmocap body", description=__doc__.splitlines()[0])
    p.add_argument("params", type=Path, help="npz with smplx keyword parameters")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--model", default="open", help="'open' (default) or an SMPL-X file/folder")
    p.add_argument("--gender", default="neutral", choices=("neutral", "male", "female"))
    p.add_argument("--vertices", action="store_true", help="also write vertices and faces")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from body_models.forward import PARAM_KEYS, body_forward

    data = load_npz(args.params)
    params = {k: data[k] for k in PARAM_KEYS if k in data}
    if not params:
        raise ValueError(f"{args.params}: no smplx parameters found, expected some of {PARAM_KEYS}")
    model = load_model_file(args.model, args.gender)
    out = body_forward(model, params, vertices=args.vertices)
    arrays = {"joints": out.joints, "keypoints3d": out.keypoints, "model": np.array(model.path)}
    if args.vertices:
        arrays.update(vertices=out.vertices.astype(np.float32), faces=model.faces)
    save_npz_atomic(args.out, arrays)
    log.info("forward pass of %d frames -> %s", len(out.joints), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

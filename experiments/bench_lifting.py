"""Lifter speed: jitted JAX DSTformer vs a torch eager peer, fp32 roofline, bf16/int8 options.

    python -m experiments.bench_lifting [--presets motionbert motionbert-lite small]
        [--frames 243 27] [--iters 3] [--no-torch] [--no-bf16] [--no-ort] [--causal]
        [--int8-keep-float GROUP ...] [--checkpoint DIR [--cmu-eval]]

For every preset and clip length T (batch 1, 17 joints unless --joints): frames/s, achieved
GFLOP/s (analytic FLOPs: linear layers + attention matmuls) as a fraction of the fp32 matmul
roofline (the best n^3 matmul rate seen in this run, measured before every row and at the
end), XLA-planned peak memory of the jitted model, the torch eager peer on the same weights
(ratio torch time / JAX time), and the bf16 predictor's speed ratio and output change ("MPJPE
change", mm if the model outputs metres). A second table has one row per precision option:
"bf16 (JAX)", "fp32 (ORT)" and "int8 (ORT)" (onnxruntime, :mod:`lifting.onnx_backend`), each
with its speed ratio against the JAX fp32 forward timed in the same run and its output change.
JAX, ORT and torch iterations alternate, so load from other processes affects all alike; every
time is the fastest of the ``--iters`` repetitions (``--stat min``, the statistic of the roofline,
which is also a best-of) or their median (``--stat median``); both go to the metrics file.
``--causal`` adds the latency per new frame of the causal variant
(``OnlineLifter`` with a T-frame window). ``--cmu-eval`` with a metric ``--checkpoint`` (e.g.
``experiments.train_lifter --cmu``) scores fp32, bf16 and int8 on the held-out CMU frames
(protocol 1, every frame): the real MPJPE change of the low-precision options.
Results go to ``runs/<name>/metrics.jsonl`` one line per configuration as they finish.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

log = logging.getLogger(__name__)


def clip_flops(config, frames: int) -> float:
    """FLOPs (2 per multiply-add) of one forward pass on a ``(1, T, J, C)`` clip."""
    t, j, d, r = frames, config.num_joints, config.dim, config.mlp_ratio
    n = t * j
    linear_per_stream_axis = n * (3 * d * d + d * d + 2 * r * d * d)  # qkv, proj, fc1, fc2
    attention = 2 * t * j * j * d + 2 * j * t * t * d  # spatial + temporal, QK^T and AV
    per_layer = 2 * (2 * linear_per_stream_axis + attention) + n * 2 * d * 2  # 2 streams, fuse
    macs = n * config.in_channels * d + config.depth * per_layer
    macs += n * (d * config.dim_rep + config.dim_rep * config.out_channels)
    return 2.0 * macs


def _rss_mb(field: str) -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def reset_peak_rss() -> None:
    """Reset VmHWM (Linux ``clear_refs`` 5) so the next peak is this run's."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def matmul_roofline(n: int = 2048, reps: int = 3) -> dict[str, float]:
    """Best fp32 GFLOP/s of an n^3 matmul: XLA (default and Eigen dots) and torch."""
    import jax
    import jax.numpy as jnp
    import torch

    from lifting.inference import _EIGEN_DOTS

    a = jnp.asarray(np.random.default_rng(0).standard_normal((n, n), dtype=np.float32))
    runs = {
        "jax": jax.jit(lambda x: x @ x),
        "jax_eigen": jax.jit(lambda x: x @ x, compiler_options=_EIGEN_DOTS),
    }
    for mm in runs.values():
        mm(a).block_until_ready()
    ta = torch.from_numpy(np.array(a))
    ta @ ta
    runs["torch"] = lambda _: ta @ ta
    best = dict.fromkeys(runs, 0.0)
    for _ in range(reps):
        for name, mm in runs.items():
            start = time.perf_counter()
            out = mm(a)
            if name != "torch":
                out.block_until_ready()
            best[name] = max(best[name], 2 * n**3 / (time.perf_counter() - start) / 1e9)
    return best


def xla_memory_mb(model, x: np.ndarray) -> float:
    """Peak memory XLA plans for the jitted forward: arguments + outputs + temporaries."""
    import jax
    from flax import nnx

    graphdef, state = nnx.split(model)
    compiled = jax.jit(lambda s, v: nnx.merge(graphdef, s)(v)).lower(state, x).compile()
    stats = compiled.memory_analysis()
    if stats is None:
        return float("nan")
    total = stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
    return (total - stats.alias_size_in_bytes) / 2**20


# onnxruntime predictors benchmarked next to the JAX fp32 forward: name -> make_predictor options
ORT_PREDICTORS = {"ort_fp32": {"backend": "onnxruntime"}, "ort_int8": {"dtype": "int8"}}
PRECISION_ROWS = {"bf16 (JAX)": "jax_bf16", "fp32 (ORT)": "ort_fp32", "int8 (ORT)": "ort_int8"}


def bench_config(preset, frames, args, params=None) -> dict:
    import torch

    from experiments.torch_dstformer import from_lifting_state
    from lifting.checkpoint import load_state_dict, state_dict
    from lifting.inference import make_predictor
    from lifting.model import create_model

    model = create_model(preset, num_joints=args.joints, rngs=args.seed)
    if params is not None:
        load_state_dict(model, params)
    config = model.config
    rng = np.random.default_rng(args.seed)
    x = rng.uniform(-0.8, 0.8, (args.batch, frames, config.num_joints, 3)).astype(np.float32)
    x[..., 2] = rng.uniform(0.5, 1.0, x.shape[:-1])
    flops = clip_flops(config, frames) * args.batch
    roof = matmul_roofline()
    row = {"preset": preset, "T": frames, "J": config.num_joints, "batch": args.batch}
    row |= {"gflop_per_clip": flops / 1e9 / args.batch, "roofline_gflops": roof}

    row["jax_xla_memory_mb"] = xla_memory_mb(model, x)
    runners = {}
    mem0 = _rss_mb("VmRSS")
    reset_peak_rss()
    fp32 = make_predictor(model, dot_library=args.dot_library)
    y32 = fp32(x)  # compile
    row["jax_peak_rss_mb"] = _rss_mb("VmHWM") - mem0
    runners["jax"] = lambda: fp32(x)
    if not args.no_bf16:
        bf16 = make_predictor(model, dtype="bfloat16", dot_library=args.dot_library)
        y16 = bf16(x)
        runners["jax_bf16"] = lambda: bf16(x)
        err = np.linalg.norm(y16 - y32, axis=-1).mean()
        row["bf16_mpjpe_change_mm"] = float(err * 1000.0)
        row["bf16_relative_change"] = float(err / np.linalg.norm(y32, axis=-1).mean())
    if not args.no_ort:  # onnxruntime: float32 and dynamic int8 (lifting.onnx_backend)
        for name, options in ORT_PREDICTORS.items():
            if name == "ort_int8":
                options = {**options, "keep_float": args.int8_keep_float}
            predict = make_predictor(model, threads=args.threads or None, **options)
            err = np.linalg.norm(predict(x) - y32, axis=-1).mean()
            row[f"{name}_mpjpe_change_mm"] = float(err * 1000.0)
            row[f"{name}_relative_change"] = float(err / np.linalg.norm(y32, axis=-1).mean())
            runners[name] = lambda predict=predict: predict(x)
    if not args.no_torch:
        torch.set_num_threads(args.threads or os.cpu_count() or 1)
        peer = from_lifting_state(config, state_dict(model))
        tx = torch.from_numpy(x)
        mem0 = _rss_mb("VmRSS")
        reset_peak_rss()
        with torch.inference_mode():
            yt = peer(tx).numpy()
        row["torch_peak_rss_mb"] = _rss_mb("VmHWM") - mem0
        row["torch_max_abs_diff"] = float(np.abs(yt - y32).max())

        def run_torch():
            with torch.inference_mode():
                return peer(tx)

        runners["torch"] = run_torch
    times: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(args.warmup):
        for fn in runners.values():
            fn()
    for _ in range(args.iters):  # alternate frameworks so background load hits all alike
        for name, fn in runners.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    for name, ts in times.items():
        sec = float(np.min(ts) if args.stat == "min" else np.median(ts))
        row[f"{name}_min_s"], row[f"{name}_median_s"] = float(np.min(ts)), float(np.median(ts))
        row[f"{name}_s"] = sec
        row[f"{name}_fps"] = args.batch * frames / sec
        row[f"{name}_gflops"] = flops / sec / 1e9
    if args.causal:
        row["causal_ms_per_frame"] = causal_latency_ms(preset, frames, args, params)
    row["jax_roofline_fraction"] = row["jax_gflops"] / max(roof.values())
    if "torch" in times:
        row["jax_over_torch"] = row["torch_s"] / row["jax_s"]
    if "jax_bf16" in times:
        row["bf16_speedup"] = row["jax_s"] / row["jax_bf16_s"]
    for name in ORT_PREDICTORS:
        if name in times:
            row[f"{name}_speedup"] = row["jax_s"] / row[f"{name}_s"]
    return row


def causal_latency_ms(preset, frames: int, args, params=None) -> float:
    """Median ms per new frame of the causal model in ``OnlineLifter`` (T-frame window)."""
    from lifting.checkpoint import load_state_dict
    from lifting.inference import OnlineLifter, make_predictor
    from lifting.model import create_model

    model = create_model(preset, num_joints=args.joints, rngs=args.seed, causal=True)
    if params is not None:
        load_state_dict(model, params)
    rng = np.random.default_rng(args.seed)
    stream = rng.uniform(-0.8, 0.8, (args.warmup + args.iters + 1, model.config.num_joints, 3))
    online = OnlineLifter(make_predictor(model, dot_library=args.dot_library), frames)
    online.run(stream.astype(np.float32))
    return 1e3 * float(np.median(online.latencies[1 + args.warmup :]))


def cmu_bf16_change(checkpoint: str, seed: int = 0, keep_float=None) -> dict:
    """Held-out CMU protocol-1 MPJPE (mm, every frame) in fp32, bf16 and int8 (onnxruntime).

    Also the mean per-joint distance of each low-precision prediction from the fp32 one
    (``cmu_<dtype>_mean_joint_change_mm``), stricter than the MPJPE difference.
    """
    from experiments.train_lifter import build_parser, cmu_sequences
    from lifting.checkpoint import load_checkpoint
    from lifting.data import clip_indices, root_relative, sequence_input, sequence_target
    from lifting.inference import lift_clips, make_predictor
    from lifting.metrics import mpjpe
    from wholebody.keypoints import get_keypoint_set

    model = load_checkpoint(checkpoint)
    meta = model.config.meta
    if meta.get("output_unit", "m") != "m":
        raise ValueError(f"--cmu-eval needs a checkpoint predicting metres, got {meta}")
    n = int(meta.get("clip_len", model.config.maxlen))
    _, val_seqs = cmu_sequences(build_parser().parse_args(["--cmu", "--seed", str(seed)]))
    out, preds = {}, {}
    for dtype in ("float32", "bfloat16", "int8"):
        options = {"keep_float": keep_float} if dtype == "int8" else {}
        predict = make_predictor(model, dtype=dtype, batch_size=32, **options)
        errors, preds[dtype] = [], []
        for seq in val_seqs:
            idx = clip_indices(len(seq), n, n, tail="last" if len(seq) >= n else "resample")
            x = sequence_input(seq, meta.get("input_norm", "screen"))
            pred = lift_clips(predict, x, idx)
            pred = root_relative(pred, get_keypoint_set(model.config.keypoint_set))
            errors.append(mpjpe(pred, sequence_target(seq)))
            preds[dtype].append(pred)
        out[f"cmu_{dtype}_mpjpe_mm"] = 1000 * float(np.concatenate(errors).mean())
        if dtype != "float32":
            diff = [np.linalg.norm(a - b, axis=-1) for a, b in zip(preds[dtype], preds["float32"])]
            out[f"cmu_{dtype}_mean_joint_change_mm"] = 1000 * float(np.concatenate(diff).mean())
    out["cmu_bf16_mpjpe_change_mm"] = out["cmu_bfloat16_mpjpe_mm"] - out["cmu_float32_mpjpe_mm"]
    out["cmu_int8_mpjpe_change_mm"] = out["cmu_int8_mpjpe_mm"] - out["cmu_float32_mpjpe_mm"]
    return out


def format_row(r: dict) -> str:
    def get(key, fmt):
        return format(r[key], fmt) if key in r else "-"

    return (
        f"{r['preset']:<16}{r['T']:>4}{r['gflop_per_clip']:>8.1f}{get('jax_fps', '9.1f')}"
        f"{get('jax_gflops', '8.1f')}{100 * r['jax_roofline_fraction']:>6.0f}%"
        f"{get('torch_fps', '9.1f')}{get('jax_over_torch', '7.2f')}"
        f"{get('jax_xla_memory_mb', '8.0f')}{get('torch_peak_rss_mb', '8.0f')}"
        f"{get('bf16_speedup', '7.2f')}{get('bf16_mpjpe_change_mm', '8.3f')}"
        f"{get('causal_ms_per_frame', '9.1f')}"
    )


PRECISION_HEADER = f"{'preset':<16}{'T':>4}  {'precision':<12}{'speed':>7}{'dMPJPE':>9}"


def format_precision(r: dict) -> list[str]:
    """One line per low-precision / onnxruntime predictor measured for this row."""
    lines = []
    for label, key in PRECISION_ROWS.items():
        if f"{key}_s" in r:
            speed = r["jax_s"] / r[f"{key}_s"]
            change = r["bf16_mpjpe_change_mm" if key == "jax_bf16" else f"{key}_mpjpe_change_mm"]
            lines.append(f"{r['preset']:<16}{r['T']:>4}  {label:<12}{speed:>6.2f}x{change:>9.3f}")
    return lines


HEADER = (
    f"{'preset':<16}{'T':>4}{'GFLOP':>8}{'jax f/s':>9}{'GFLOP/s':>8}{'roof':>7}"
    f"{'torch f/s':>9}{'jax/t':>7}{'jaxMB':>8}{'torchMB':>8}{'bf16x':>7}{'dMPJPE':>8}"
    f"{'causalms':>9}"
)


def main(argv: list[str] | None = None) -> int:
    from lifting.inference import DOT_LIBRARIES

    p = argparse.ArgumentParser(prog="bench_lifting", description=__doc__.split("\n\n")[0])
    p.add_argument("--presets", nargs="+", default=["motionbert", "motionbert-lite", "small"])
    p.add_argument("--frames", type=int, nargs="+", default=[243, 27])
    p.add_argument("--joints", type=int, default=None, help="J (default 17)")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--stat", choices=("min", "median"), default="min",
                   help="fastest repetition (a best-of, like the roofline) or median")  # fmt: skip
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--no-bf16", action="store_true")
    p.add_argument("--no-ort", action="store_true", help="skip the onnxruntime fp32/int8 rows")
    p.add_argument("--int8-keep-float", nargs="*", default=None, metavar="GROUP",
                   help="layer groups the int8 predictor keeps in float32 (default: "
                   "lifting.onnx_backend.DEFAULT_KEEP_FLOAT)")  # fmt: skip
    p.add_argument("--checkpoint", help="lifting checkpoint: bench its preset on its weights")
    p.add_argument("--causal", action="store_true", help="also time the causal online mode")
    p.add_argument("--dot-library", choices=DOT_LIBRARIES, default="auto",
                   help="XLA CPU dots of the JAX predictor (lifting.inference)")  # fmt: skip
    p.add_argument("--cmu-eval", action="store_true",
                   help="with --checkpoint: fp32 vs bf16 MPJPE on held-out CMU frames")  # fmt: skip
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default="bench_lifting")
    p.add_argument("--runs-dir", type=Path, default=Path("runs"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    params = None
    presets = args.presets
    if args.checkpoint:
        from lifting.checkpoint import load_checkpoint, state_dict

        ckpt = load_checkpoint(args.checkpoint)
        params, presets, args.joints = state_dict(ckpt), [ckpt.config], ckpt.config.num_joints
    run_dir = args.runs_dir / args.name
    run_dir.mkdir(parents=True, exist_ok=True)
    record = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    (run_dir / "config.json").write_text(json.dumps(record, indent=2) + "\n")
    metrics = run_dir / "metrics.jsonl"
    metrics.write_text("")
    rows: list[dict] = []
    jobs = [(preset, t) for preset in presets for t in args.frames]
    for preset, t in tqdm(jobs, desc="configs"):
        row = bench_config(preset, t, args, params)
        if not isinstance(row["preset"], str):
            row["preset"] = row["preset"].name
        rows.append(row)
        with metrics.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
    # the machine is shared: its roofline is the best matmul rate seen anywhere in this run
    final = matmul_roofline()
    best = max([*final.values(), *(v for r in rows for v in r["roofline_gflops"].values())])
    for row in rows:
        row["jax_roofline_fraction"] = row["jax_gflops"] / best
    summary = {"roofline_best_gflops": best, "roofline_final": final}
    if args.cmu_eval:
        if not args.checkpoint:
            raise SystemExit("--cmu-eval needs --checkpoint (a lifter trained in metres)")
        summary |= cmu_bf16_change(args.checkpoint, args.seed, args.int8_keep_float)
    with metrics.open("a") as handle:
        handle.write(json.dumps(summary) + "\n")
    print(f"fp32 matmul roofline (best in this run, JAX or torch): {best:.1f} GFLOP/s")
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"times: {args.stat} of {args.iters} alternating repetitions; load average {load}")
    print(HEADER)
    for row in rows:
        print(format_row(row))
    print(
        "roof = JAX GFLOP/s / that roofline; "
        "jax/t = torch time / JAX time; jaxMB = XLA-planned peak (weights + activations); "
        "torchMB = process peak-RSS growth on its first call (0: reused pooled memory); "
        "bf16x = fp32 time / bf16 time; "
        "dMPJPE = mean |bf16 - fp32| per joint (mm if outputs are metres); "
        "causalms = causal online mode, ms per new frame"
    )
    precision = [format_precision(row) for row in rows]
    if any(precision):
        print(PRECISION_HEADER)
        print("\n".join(line for lines in precision for line in lines))
        print(
            "speed = JAX fp32 time / this predictor's time (same run, alternating iterations); "
            "dMPJPE = mean |this - JAX fp32| per joint (mm if outputs are metres)"
        )
    if args.cmu_eval:
        print(
            "held-out CMU MPJPE: fp32 {cmu_float32_mpjpe_mm:.2f} mm, bf16 "
            "{cmu_bfloat16_mpjpe_mm:.2f} mm (change {cmu_bf16_mpjpe_change_mm:+.3f} mm, mean "
            "joint change {cmu_bfloat16_mean_joint_change_mm:.3f} mm), int8 (ORT) "
            "{cmu_int8_mpjpe_mm:.2f} mm (change {cmu_int8_mpjpe_change_mm:+.3f} mm, mean joint "
            "change {cmu_int8_mean_joint_change_mm:.3f} mm)".format(**summary)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

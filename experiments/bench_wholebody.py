"""Whole-body 2D inference speed: batched top-down pipeline vs model-only ORT vs rtmlib's loop.

For each model (default rtmpose-m and rtmw-l at 256x192, random weights: speed only) and each
people count (1, 8, 32) on one 640x480 frame, prints crops/s of
  torch e2e   : crop + batched torch forward + decode + back-projection (TopdownPredictor,
                TorchBackend defaults: folded BatchNorm, packed oneDNN convs, channels-last,
                backbone + neck of 1-crop batches as oneDNN Graph compiled partitions)
  packed      : the same with ``TorchBackend(graph=False)`` (only with ``--packed``; timed in
                its own round-robin pass with ort e2e, which gives its packed/ort ratio)
  torch eager : the same with ``TorchBackend(packed=False)`` (only with ``--eager``; timed
                in its own round-robin pass with ort e2e, which gives its eager/ort ratio)
  ort e2e     : the same with ONNX Runtime
  ort model   : bare batched session.run on ready crops (the pipeline's lower bound)
  ort loop    : one session.run per crop incl. crop/decode (the rtmlib pattern)
  overhead    : the pipeline's own time (crop + decode + back-projection, TopdownPredictor over
                a backend that returns ready outputs) / ort model time; measured directly, as
                the difference of two noisy end-to-end timings on a shared machine is not
                (``pipeline_overhead_e2e`` in metrics.jsonl is ort e2e / ort model - 1)
and the model's GMACs ("GFLOPs" in MMPose tables), achieved GFLOP/s and the fraction of the
machine's measured fp32 matmul throughput (best of several 2048^3 matmuls), with ratios
measured in the same run. The measured paths run round-robin within each repetition (so load
from other processes hits them alike) and each reports its fastest repetition (``--stat min``,
the least disturbed on a shared machine; ``--stat median`` is available) over ``--iters``
repetitions, or more where calls are fast (``--min-seconds`` of timing per pass). Torch and ORT
get the same intra-op thread count (``--threads``; ORT runs its graph sequentially).

``--device cuda`` adds, at each people count, torch batched vs a per-crop loop on the GPU
(wall clock, synchronised; the goal is >= 3x at 8 people); without a GPU it says so and
skips that part.

    python -m experiments.bench_wholebody [--models rtmpose-m rtmw-l] [--people 1 8 32]
        [--iters 5] [--min-seconds 10] [--stat min] [--threads 1] [--eager] [--packed]
        [--device cuda]
    python -m experiments.bench_wholebody --summary   # params / GMACs of every preset
It ends with the evaluation timing of ``experiments.bench_eval_wholebody`` (``--eval-images``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from wholebody.codecs.simcc import decode_simcc
from wholebody.crop import warp_from_crop
from wholebody.inference.backends import TorchBackend
from wholebody.inference.onnx_export import export_onnx
from wholebody.inference.ort_backend import OrtBackend
from wholebody.inference.topdown import TopdownPredictor
from wholebody.models import PRESETS, count_macs, count_parameters, create_model

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
CLOCK = time.perf_counter
STATS = {"min": np.min, "median": np.median}
STAT = np.min
MIN_SECONDS = 0.0  # --min-seconds (0: exactly ``iters`` repetitions)
MAX_REPEAT = 20  # at most MAX_REPEAT * iters repetitions


def timeit(fn, iters: int, warmup: int = 1, clock=None) -> float:
    """Seconds per call (``--stat`` of ``iters``) on the selected clock (``--clock``)."""
    return time_round_robin({"f": fn}, iters, warmup, clock)["f"]


def time_round_robin(
    fns: dict, iters: int, warmup: int = 1, clock=None, min_seconds: float | None = None
) -> dict:
    """Seconds per call of each function (``--stat`` over the repetitions), calling them
    in turn within each repetition (a burst of load from other processes then slows all of
    them, not just one). Repetitions: ``iters``, or more for fast calls, so that the timed
    rounds last about ``min_seconds`` (``--min-seconds``; at most ``MAX_REPEAT * iters``):
    on a shared machine the fastest of many short runs is a steadier statistic."""
    clock = clock or CLOCK
    min_seconds = MIN_SECONDS if min_seconds is None else min_seconds
    round_s = 0.0
    for _ in range(warmup):
        t = clock()
        for fn in fns.values():
            fn()
        round_s = clock() - t
    reps = iters
    if min_seconds > 0 and warmup > 0:
        reps = max(iters, min(MAX_REPEAT * iters, int(np.ceil(min_seconds / max(round_s, 1e-9)))))
    times = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            t = clock()
            fn()
            times[k].append(clock() - t)
    return {k: float(STAT(v)) for k, v in times.items()}


def matmul_gflops(threads: int, n: int = 2048, iters: int = 5) -> float:
    """Measured fp32 matmul throughput (GFLOP/s) with torch at ``threads`` threads: the best of
    ``iters`` (a peak; the median would include other processes' load)."""
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(iters):
        t = CLOCK()
        a @ b
        best = min(best, CLOCK() - t)
    return 2 * n**3 / best / 1e9


def random_boxes(n: int, width: int, height: int, rng) -> np.ndarray:
    wh = rng.uniform(60, 240, (n, 2))
    xy = rng.uniform(0, 1, (n, 2)) * (np.array([width, height]) - wh)
    return np.concatenate([xy, xy + wh], axis=1)


class ReadyOutputs:
    """A backend that returns the outputs of ``backend`` precomputed for one batch (times the
    pipeline without the model)."""

    def __init__(self, backend, batch: np.ndarray) -> None:
        self.input_size, self.split_ratio = backend.input_size, backend.split_ratio
        self.is_simcc, self.max_batch = backend.is_simcc, None
        self.outputs = backend(batch)

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(o[: len(batch)] for o in self.outputs)


def ort_loop(predictor: TopdownPredictor, backend: OrtBackend, image, boxes) -> None:
    """rtmlib pattern: per box crop, one session.run, decode, back-project."""
    for box in boxes:
        batch, c, s = predictor.crop(image, box[None])
        sx, sy = backend.session.run(None, {backend.input_name: batch})
        kp, _ = decode_simcc(sx, sy, backend.split_ratio)
        warp_from_crop(kp, c, s, predictor.input_size)


def bench_model(
    name: str,
    people: list[int],
    iters: int,
    threads: int,
    peak: float,
    rng,
    eager: bool = False,
    device: str = "cpu",
    packed: bool = False,
):
    torch.set_num_threads(threads)
    model = create_model(name).eval()
    macs = count_macs(name)
    tmp = Path(tempfile.mkdtemp(prefix="bench_wb_")) / f"{name}.onnx"
    ort_b = OrtBackend(export_onnx(model, tmp), threads=threads)
    torch_pred = TopdownPredictor(TorchBackend(model), batch_size=max(people))
    if eager:
        eager_pred = TopdownPredictor(TorchBackend(model, packed=False), batch_size=max(people))
    if packed:
        packed_pred = TopdownPredictor(TorchBackend(model, graph=False), batch_size=max(people))
    ort_pred = TopdownPredictor(ort_b, batch_size=max(people))
    image = rng.integers(0, 255, (480, 640, 3)).astype(np.uint8)
    gpu = gpu_context(model, image, max(people)) if device == "cuda" else None
    rows = []
    for n in tqdm(people, desc=name, leave=False):
        boxes = random_boxes(n, 640, 480, rng)
        crops, _, _ = ort_pred.crop(image, boxes)
        pipe = TopdownPredictor(ReadyOutputs(ort_b, crops), batch_size=max(people))
        fns = {
            "torch": lambda: torch_pred.predict(image, boxes),  # noqa: B023
            "ort": lambda: ort_pred.predict(image, boxes),  # noqa: B023
            "model": lambda: ort_b(crops),  # noqa: B023
            "loop": lambda: ort_loop(ort_pred, ort_b, image, boxes),  # noqa: B023
            "pipeline": lambda: pipe.predict(image, boxes),  # noqa: B023
        }
        t = time_round_robin(fns, iters, warmup=2)  # 1st call per size packs / compiles
        if eager:  # a separate pass: interleaved with the packed path it slows that one down
            eager_fns = {"eager": lambda: eager_pred.predict(image, boxes), "ort": fns["ort"]}  # noqa: B023
            t_eager = time_round_robin(eager_fns, iters, warmup=2)
        if packed:  # the same for the packed path without oneDNN Graph
            packed_fns = {"packed": lambda: packed_pred.predict(image, boxes), "ort": fns["ort"]}  # noqa: B023
            t_packed = time_round_robin(packed_fns, iters, warmup=2)
        row = {
            "model": name,
            "people": n,
            "gmacs": macs / 1e9,
            "torch_e2e_crops_s": n / t["torch"],
            "ort_e2e_crops_s": n / t["ort"],
            "ort_model_crops_s": n / t["model"],
            "ort_loop_crops_s": n / t["loop"],
            "pipeline_overhead": t["pipeline"] / t["model"],
            "pipeline_overhead_e2e": t["ort"] / t["model"] - 1,
            "torch_vs_ort": t["ort"] / t["torch"],
            "batched_vs_loop": t["loop"] / t["ort"],
            "model_gflop_s": 2 * macs * n / t["model"] / 1e9,
            "roofline_fraction": 2 * macs * n / t["model"] / 1e9 / peak,
        }
        if eager:
            row["torch_eager_crops_s"] = n / t_eager["eager"]
            row["eager_vs_ort"] = t_eager["ort"] / t_eager["eager"]
        if packed:
            row["torch_packed_crops_s"] = n / t_packed["packed"]
            row["packed_vs_ort"] = t_packed["ort"] / t_packed["packed"]
        if gpu is not None:
            row.update(gpu_rows(gpu, image, boxes, iters))
        rows.append(row)
    return rows


def gpu_context(model, image, max_people: int):
    """Torch CUDA predictor for the GPU rows, or None (with the reason logged) without a GPU."""
    if not torch.cuda.is_available():
        print(
            "GPU goal (batched >= 3x the per-crop loop at 8 people): skipped, "
            "torch.cuda.is_available() is False (no GPU, or a CPU-only PyTorch build)"
        )
        return None
    return TopdownPredictor(TorchBackend(model, "cuda"), batch_size=max_people)


def gpu_rows(pred: TopdownPredictor, image, boxes, iters: int) -> dict:
    """Torch on CUDA: batched pipeline vs one predict per crop (wall clock, synchronised)."""

    def batched():
        pred.predict(image, boxes)
        torch.cuda.synchronize()

    def loop():
        for box in boxes:
            pred.predict(image, box[None])
        torch.cuda.synchronize()

    t = time_round_robin({"b": batched, "l": loop}, iters, 2, clock=time.perf_counter)
    return {
        "gpu_batched_crops_s": len(boxes) / t["b"],
        "gpu_loop_crops_s": len(boxes) / t["l"],
        "gpu_batched_vs_loop": t["l"] / t["b"],
    }


def print_summary() -> None:
    """Parameters and GMACs of every preset next to the reference numbers (meta device)."""
    print(f"{'preset':<20}{'input':>9}{'params':>9}{'ref':>7}{'GMACs':>8}{'published':>10}")
    for name, cfg in PRESETS.items():
        with torch.device("meta"):
            n = count_parameters(create_model(name))
        ref = f"{cfg.param_estimate / 1e6:.1f}M" if cfg.param_estimate else "-"
        pub = f"{cfg.published_gflops}" if cfg.published_gflops else "-"
        size = f"{cfg.input_size[1]}x{cfg.input_size[0]}"
        print(f"{name:<20}{size:>9}{n / 1e6:>8.2f}M{ref:>7}{count_macs(name) / 1e9:>8.2f}{pub:>10}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=["rtmpose-m", "rtmw-l"])
    p.add_argument("--people", nargs="+", type=int, default=[1, 8, 32])
    p.add_argument("--iters", type=int, default=5, help="timed repetitions (see --stat)")
    p.add_argument(
        "--min-seconds",
        type=float,
        default=10.0,
        help="more repetitions (up to 20x --iters) for fast rows, until each round-robin "
        "pass times about this many seconds (0: exactly --iters)",
    )
    p.add_argument("--threads", type=int, default=1, help="torch and ORT intra-op threads")
    p.add_argument(
        "--eager",
        action="store_true",
        help="also time the torch path without packed convolutions (TorchBackend(packed=False))",
    )
    p.add_argument(
        "--packed",
        action="store_true",
        help="also time the torch path without oneDNN Graph (TorchBackend(graph=False))",
    )
    p.add_argument(
        "--device",
        choices=["cpu", "cuda"],
        default="cpu",
        help="cuda: also time torch batched vs per-crop loop on the GPU (the CPU rows always run)",
    )
    p.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="cpu: process CPU time (robust on a shared machine; per-crop CPU cost, exact at "
        "--threads 1); wall: elapsed time",
    )
    p.add_argument(
        "--stat",
        choices=sorted(STATS),
        default="min",
        help="statistic over --iters repetitions (min: the least disturbed by other processes)",
    )
    p.add_argument("--out", default="runs/bench_wholebody")
    p.add_argument("--summary", action="store_true", help="only print params / GMACs per preset")
    p.add_argument(
        "--eval-images",
        type=int,
        default=2000,
        help="also time COCO-WholeBody evaluation vs pycocotools on N synthetic images "
        "(experiments.bench_eval_wholebody); 0 skips",
    )
    args = p.parse_args(argv)
    global CLOCK, STAT, MIN_SECONDS
    CLOCK, STAT, MIN_SECONDS = CLOCKS[args.clock], STATS[args.stat], args.min_seconds
    if args.summary:
        print_summary()
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(vars(args), indent=2))
    rng = np.random.default_rng(0)
    peak = matmul_gflops(args.threads)
    print(
        f"fp32 matmul roofline (torch, {args.threads} threads, {args.clock} clock): "
        f"{peak:.1f} GFLOP/s; torch threads = ORT intra-op threads = {args.threads}"
    )
    eager_head = f"{'eager':>8}{'eager/ort':>10}" if args.eager else ""
    eager_head += f"{'packed':>8}{'packed/ort':>11}" if args.packed else ""
    header = (
        f"{'model':<10}{'N':>4}{'GMACs':>7}{'torch e2e':>11}{eager_head}{'ort e2e':>9}"
        f"{'ort model':>11}{'ort loop':>10}{'overhead':>10}{'torch/ort':>10}{'batch/loop':>11}"
        f"{'roofline':>10}"
    )
    lines = [header]
    for name in args.models:
        rows = bench_model(
            name,
            args.people,
            args.iters,
            args.threads,
            peak,
            rng,
            args.eager,
            args.device,
            args.packed,
        )
        for row in rows:
            row["matmul_gflop_s"] = peak
            with open(out / "metrics.jsonl", "a") as f:
                f.write(json.dumps(row) + "\n")
            eager_cols = (
                f"{row['torch_eager_crops_s']:>8.1f}{row['eager_vs_ort']:>10.2f}"
                if args.eager
                else ""
            )
            if args.packed:
                eager_cols += f"{row['torch_packed_crops_s']:>8.1f}{row['packed_vs_ort']:>11.2f}"
            lines.append(
                f"{row['model']:<10}{row['people']:>4}{row['gmacs']:>7.2f}"
                f"{row['torch_e2e_crops_s']:>11.1f}{eager_cols}{row['ort_e2e_crops_s']:>9.1f}"
                f"{row['ort_model_crops_s']:>11.1f}{row['ort_loop_crops_s']:>10.1f}"
                f"{row['pipeline_overhead']:>+10.1%}{row['torch_vs_ort']:>10.2f}"
                f"{row['batched_vs_loop']:>11.2f}{row['roofline_fraction']:>10.1%}"
            )
            if "gpu_batched_vs_loop" in row:
                lines.append(
                    f"   GPU torch batched {row['gpu_batched_crops_s']:.1f} crops/s vs per-crop "
                    f"loop {row['gpu_loop_crops_s']:.1f}: {row['gpu_batched_vs_loop']:.2f}x"
                    + (" (goal >= 3x at 8 people)" if row["people"] == 8 else "")
                )
    per = "CPU-second" if args.clock == "cpu" else "second"
    print(
        f"crops per {per} (higher is better); overhead = pipeline time without the model / "
        "ort model time"
    )
    print("\n".join(lines))
    if args.eval_images > 0:
        from experiments import bench_eval_wholebody

        print(f"\nevaluation time vs pycocotools ({args.eval_images} synthetic images):")
        bench_eval_wholebody.main(["--images", str(args.eval_images), "--repeats", "1"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

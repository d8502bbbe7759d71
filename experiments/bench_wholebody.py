"""Whole-body 2D inference speed: batched top-down pipeline vs model-only ORT vs rtmlib's loop.

For each model (default rtmpose-m and rtmw-l at 256x192, random weights: speed only) and each
people count (1, 8, 32) on one 640x480 frame, prints crops/s of
  torch e2e   : crop + batched torch forward + decode + back-projection (TopdownPredictor)
  ort e2e     : the same with ONNX Runtime
  ort model   : bare batched session.run on ready crops (the pipeline's lower bound)
  ort loop    : one session.run per crop incl. crop/decode (the rtmlib pattern)
and the model's GMACs ("GFLOPs" in MMPose tables), achieved GFLOP/s and the fraction of the
machine's measured fp32 matmul throughput, with ratios measured in the same run. On a GPU
(torch.cuda available) it adds torch batched vs per-crop loop at 8 people.

    python -m experiments.bench_wholebody [--models rtmpose-m rtmw-l] [--people 1 8 32]
        [--iters 3] [--threads 2]
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


def timeit(fn, iters: int, warmup: int = 1) -> float:
    """Median seconds per call on the selected clock (``--clock``)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t = CLOCK()
        fn()
        times.append(CLOCK() - t)
    return float(np.median(times))


def matmul_gflops(threads: int, n: int = 1024, iters: int = 7) -> float:
    """Measured fp32 matmul throughput (GFLOP/s) with torch at ``threads`` threads."""
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    sec = timeit(lambda: a @ b, iters, warmup=2)
    return 2 * n**3 / sec / 1e9


def random_boxes(n: int, width: int, height: int, rng) -> np.ndarray:
    wh = rng.uniform(60, 240, (n, 2))
    xy = rng.uniform(0, 1, (n, 2)) * (np.array([width, height]) - wh)
    return np.concatenate([xy, xy + wh], axis=1)


def ort_loop(predictor: TopdownPredictor, backend: OrtBackend, image, boxes) -> None:
    """rtmlib pattern: per box crop, one session.run, decode, back-project."""
    for box in boxes:
        batch, c, s = predictor.crop(image, box[None])
        sx, sy = backend.session.run(None, {backend.input_name: batch})
        kp, _ = decode_simcc(sx, sy, backend.split_ratio)
        warp_from_crop(kp, c, s, predictor.input_size)


def bench_model(name: str, people: list[int], iters: int, threads: int, peak: float, rng):
    torch.set_num_threads(threads)
    model = create_model(name).eval()
    macs = count_macs(name)
    tmp = Path(tempfile.mkdtemp(prefix="bench_wb_")) / f"{name}.onnx"
    ort_b = OrtBackend(export_onnx(model, tmp), threads=threads)
    torch_pred = TopdownPredictor(TorchBackend(model), batch_size=max(people))
    ort_pred = TopdownPredictor(ort_b, batch_size=max(people))
    image = rng.integers(0, 255, (480, 640, 3)).astype(np.uint8)
    rows = []
    for n in tqdm(people, desc=name, leave=False):
        boxes = random_boxes(n, 640, 480, rng)
        crops, _, _ = ort_pred.crop(image, boxes)
        t_torch = timeit(lambda: torch_pred.predict(image, boxes), iters)  # noqa: B023
        t_ort = timeit(lambda: ort_pred.predict(image, boxes), iters)  # noqa: B023
        t_model = timeit(lambda: ort_b(crops), iters)  # noqa: B023
        t_loop = timeit(lambda: ort_loop(ort_pred, ort_b, image, boxes), iters)  # noqa: B023
        row = {
            "model": name,
            "people": n,
            "gmacs": macs / 1e9,
            "torch_e2e_crops_s": n / t_torch,
            "ort_e2e_crops_s": n / t_ort,
            "ort_model_crops_s": n / t_model,
            "ort_loop_crops_s": n / t_loop,
            "pipeline_overhead": t_ort / t_model - 1,
            "torch_vs_ort": t_ort / t_torch,
            "batched_vs_loop": t_loop / t_ort,
            "model_gflop_s": 2 * macs * n / t_model / 1e9,
            "roofline_fraction": 2 * macs * n / t_model / 1e9 / peak,
        }
        if torch.cuda.is_available() and n == 8:
            row.update(gpu_rows(model, image, boxes, iters))
        rows.append(row)
    return rows


def gpu_rows(model, image, boxes, iters) -> dict:
    """Torch on CUDA: batched pipeline vs one forward per crop (synchronised timings)."""
    backend = TorchBackend(model, "cuda")
    pred = TopdownPredictor(backend, batch_size=len(boxes))

    def batched():
        pred.predict(image, boxes)
        torch.cuda.synchronize()

    def loop():
        for box in boxes:
            pred.predict(image, box[None])
        torch.cuda.synchronize()

    t_b, t_l = timeit(batched, iters, 2), timeit(loop, iters, 2)
    model.cpu()
    return {
        "gpu_batched_crops_s": len(boxes) / t_b,
        "gpu_loop_crops_s": len(boxes) / t_l,
        "gpu_batched_vs_loop": t_l / t_b,
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
    p.add_argument("--iters", type=int, default=3, help="timed repetitions (median)")
    p.add_argument("--threads", type=int, default=1, help="torch and ORT intra-op threads")
    p.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="cpu: process CPU time (robust on a shared machine; per-crop CPU cost, exact at "
        "--threads 1); wall: elapsed time",
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
    global CLOCK
    CLOCK = CLOCKS[args.clock]
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
        f"{peak:.1f} GFLOP/s"
    )
    header = (
        f"{'model':<10}{'N':>4}{'GMACs':>7}{'torch e2e':>11}{'ort e2e':>9}{'ort model':>11}"
        f"{'ort loop':>10}{'overhead':>10}{'torch/ort':>10}{'batch/loop':>11}{'roofline':>10}"
    )
    lines = [header]
    for name in args.models:
        for row in bench_model(name, args.people, args.iters, args.threads, peak, rng):
            row["matmul_gflop_s"] = peak
            with open(out / "metrics.jsonl", "a") as f:
                f.write(json.dumps(row) + "\n")
            lines.append(
                f"{row['model']:<10}{row['people']:>4}{row['gmacs']:>7.2f}"
                f"{row['torch_e2e_crops_s']:>11.1f}{row['ort_e2e_crops_s']:>9.1f}"
                f"{row['ort_model_crops_s']:>11.1f}{row['ort_loop_crops_s']:>10.1f}"
                f"{row['pipeline_overhead']:>+10.1%}{row['torch_vs_ort']:>10.2f}"
                f"{row['batched_vs_loop']:>11.2f}{row['roofline_fraction']:>10.1%}"
            )
            if "gpu_batched_vs_loop" in row:
                lines.append(
                    f"   GPU batched vs loop at 8 people: {row['gpu_batched_vs_loop']:.2f}x"
                )
    per = "CPU-second" if args.clock == "cpu" else "second"
    print(f"crops per {per} (higher is better); overhead = ort e2e time / ort model time - 1")
    print("\n".join(lines))
    if args.eval_images > 0:
        from experiments import bench_eval_wholebody

        print(f"\nevaluation time vs pycocotools ({args.eval_images} synthetic images):")
        bench_eval_wholebody.main(["--images", str(args.eval_images), "--repeats", "1"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

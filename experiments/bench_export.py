"""Benchmark BVH and FBX writing of 10,000 frames x 55 joints against naive peers (same run).

    python -m experiments.bench_export [--frames 10000] [--repeats 3]

Peers: a naive BVH writer (per-joint scipy Euler conversion, one f-string per value, one
write per line) and a naive FBX array encoder (``struct.pack`` per element, no compression).
Goal: < 1 s for each of our writers; timings on a shared machine are noisy, read the ratios.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from body_models.export import fbx_binary
from body_models.export.bvh import hierarchy_text, write_bvh
from body_models.export.fbx_scene import write_fbx
from body_models.export.motion import Motion, depth_first_order
from body_models.export.smplx_motion import smplx_motion
from body_models.synthetic import rest_skeleton

log = logging.getLogger(__name__)


def make_motion(frames: int) -> Motion:
    rng = np.random.default_rng(0)
    params = {
        "global_orient": rng.normal(scale=0.5, size=(frames, 3)),
        "body_pose": rng.normal(scale=0.4, size=(frames, 63)),
        "left_hand_pose": rng.normal(scale=0.4, size=(frames, 45)),
        "right_hand_pose": rng.normal(scale=0.4, size=(frames, 45)),
        "transl": rng.normal(size=(frames, 3)),
    }
    return smplx_motion(params, rest_skeleton(rng))


def naive_bvh(path: Path, motion: Motion) -> None:
    """Peer: per-joint scipy Euler, one f-string per value, one write per line."""
    dfs = depth_first_order(motion.parents)
    with open(path, "w") as fh:
        fh.write(hierarchy_text(motion))
        fh.write(f"MOTION\nFrames: {motion.num_frames}\nFrame Time: {motion.frame_time:.10g}\n")
        euler = [
            Rotation.from_matrix(motion.rotations[:, j]).as_euler("ZXY", degrees=True) for j in dfs
        ]
        for t in range(motion.num_frames):
            vals = [f"{v:.6f}" for v in motion.positions[0][t]]
            for k in range(len(dfs)):
                vals += [f"{v:.6f}" for v in euler[k][t]]
            fh.write(" ".join(vals) + "\n")


def _naive_encode_prop(code: str, value) -> bytes:
    if code in fbx_binary._ARRAY:
        fmt = {"b": "<?", "i": "<i", "l": "<q", "f": "<f", "d": "<d"}[code]
        data = b"".join(struct.pack(fmt, v) for v in np.asarray(value).tolist())
        return code.encode() + struct.pack("<III", len(value), 0, len(data)) + data
    return _fast_encode_prop(code, value)


_fast_encode_prop = fbx_binary._encode_prop


def naive_fbx(path: Path, motion: Motion) -> None:
    """Peer: the same scene with arrays packed element by element, uncompressed."""
    fbx_binary._encode_prop = _naive_encode_prop
    try:
        write_fbx(path, motion)
    finally:
        fbx_binary._encode_prop = _fast_encode_prop


def best_time(fn, repeats: int) -> tuple[float, float]:
    """Best wall-clock and best CPU (process) time over ``repeats`` runs, seconds.

    CPU time is the fairer number on a shared, oversubscribed machine.
    """
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_export", description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    motion = make_motion(args.frames)
    results = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cases = {
            "bvh": lambda: write_bvh(tmp / "a.bvh", motion),
            "bvh_naive": lambda: naive_bvh(tmp / "b.bvh", motion),
            "fbx": lambda: write_fbx(tmp / "a.fbx", motion),
            "fbx_naive": lambda: naive_fbx(tmp / "b.fbx", motion),
        }
        for name, fn in cases.items():
            results[name] = best_time(fn, args.repeats)
        sizes = {p.name: p.stat().st_size for p in tmp.iterdir()}
    shape = f"{args.frames} frames x {motion.num_joints} joints"
    for fmt in ("bvh", "fbx"):
        (w, c), (nw, nc) = results[fmt], results[f"{fmt}_naive"]
        goal = "meets" if w < 1.0 else "misses"
        print(
            f"{fmt.upper()} {shape}: ours {w:.3f} s wall / {c:.3f} s CPU, naive peer {nw:.3f} s "
            f"wall / {nc:.3f} s CPU, speed-up x{nw / w:.1f} wall, x{nc / c:.1f} CPU "
            f"({goal} the < 1 s goal in wall time)"
        )
    print(json.dumps({"wall_cpu_seconds": results, "bytes": sizes, "loadavg": os.getloadavg()}))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main())

"""ControlNet conditioning maps for every frame: OpenPose pose maps + JSON, depth, normals.

python -m experiments.controlnet_maps KP.npz --out DIR [--resolution R]
    KP.npz: keypoints (T, N, 133, 2) pixels, scores (T, N, 133), image_size (2,) (H, W).
    Writes DIR/pose_{t:05d}.png, DIR/openpose.json (per-frame list), DIR/pose.mp4 (T > 1).
    Without --resolution maps have exactly image_size; with it, ControlNet's multiple-of-64
    size for short side R. Keypoints are smoothed over time first (--smooth).
python -m experiments.controlnet_maps FIT.npz --out DIR --kind depth|normal [--camera CAM]
    FIT.npz: the fitting output (SMPL-X parameters + model) or vertices (T, V, 3) + faces.
    --kind pose on such a file projects its keypoints3d with the same camera, so pose,
    depth and normal maps line up.
    Default camera: looks along +z like the fitting camera and frames the whole sequence,
    long side R (default 512); --camera JSON/npz (fx, fy, cx, cy, width, height[, R, t]).
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

from experiments.npz_io import load_npz
from wholebody.controlnet import STYLES, round_size
from wholebody.controlnet.draw import get_style
from wholebody.controlnet.mesh_maps import framing_camera, load_camera, resize_camera
from wholebody.controlnet.openpose_json import write_openpose_json
from wholebody.controlnet.pose_map import project_keypoints
from wholebody.controlnet.video import mesh_sequence, pose_sequence, write_maps

log = logging.getLogger("controlnet_maps")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wbmocap controlnet", description=__doc__.splitlines()[0])
    p.add_argument("input", help="keypoint npz (pose) or fitting/vertices npz (depth, normal)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--kind", choices=("pose", "depth", "normal"), default="pose")
    p.add_argument(
        "--resolution",
        type=int,
        default=None,
        help="pose: ControlNet detect resolution; depth/normal: long side (512)",
    )
    p.add_argument("--style", choices=sorted(STYLES), default="controlnet", help="pose style")
    p.add_argument("--feet", action="store_true", help="draw feet (BODY_25 links)")
    p.add_argument("--face-points", type=int, choices=(68, 70), default=None)
    p.add_argument("--no-body", action="store_true")
    p.add_argument("--no-hands", action="store_true")
    p.add_argument("--no-face", action="store_true")
    p.add_argument("--smooth", choices=("savgol", "one_euro", "none"), default="savgol")
    p.add_argument("--window", type=int, default=7, help="Savitzky-Golay window (frames)")
    p.add_argument("--no-track", action="store_true", help="people keep their index per frame")
    p.add_argument("--fps", type=float, default=None, help="video fps (default: npz fps or 30)")
    p.add_argument("--no-video", action="store_true", help="only PNG frames")
    p.add_argument("--camera", help="camera JSON/npz for depth/normal maps")
    p.add_argument("--model", default=None, help="body model for parameter files (default: "
                   "the npz's 'model' entry, else 'open')")  # fmt: skip
    p.add_argument("--near", type=float, help="depth range near (m); default: sequence range")
    p.add_argument("--far", type=float, help="depth range far (m)")
    p.add_argument("--normal-background", type=int, nargs=3, default=(0, 0, 0),
                   metavar=("R", "G", "B"))  # fmt: skip
    return p


def _style(args):
    style = get_style(args.style)
    changes = {}
    if args.feet:
        changes["feet"] = True
    if args.face_points:
        changes["face_points"] = args.face_points
    for part in ("body", "hands", "face"):
        if getattr(args, f"no_{part}"):
            changes[part] = False
    from dataclasses import replace

    return replace(style, **changes)


class _Metrics:
    def __init__(self, out: Path):
        self.file = open(out / "metrics.jsonl", "w")

    def write(self, **row) -> None:
        self.file.write(json.dumps(row) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def _write_config(out: Path, args, **extra) -> None:
    cfg = {k: v for k, v in vars(args).items()} | extra
    tmp = out / ".config.json.tmp"
    tmp.write_text(json.dumps(cfg, indent=2, default=str))
    os.replace(tmp, out / "config.json")


def _pose_from_fit(args, data: dict) -> dict:
    """Fitting output (keypoints3d) -> 2D keypoints with the depth/normal maps' camera."""
    camera = _mesh_camera(args, _vertices(args, data)[0] if not args.camera else None)
    kp3d = np.asarray(data["keypoints3d"], dtype=np.float64)
    kp3d = kp3d[None] if kp3d.ndim == 2 else kp3d
    kp, sc = project_keypoints(kp3d, camera)
    args.resolution = None  # the camera already has the requested size
    return {"keypoints": kp[:, None], "scores": sc[:, None],
            "image_size": np.array([camera.height, camera.width]), **{
                k: data[k] for k in ("fps",) if k in data}}  # fmt: skip


def run_pose(args, data: dict, out: Path) -> int:
    if "keypoints" not in data and "keypoints3d" in data:
        data = _pose_from_fit(args, data)
    for key in ("keypoints", "scores", "image_size"):
        if key not in data:
            raise ValueError(f"{args.input}: missing array {key!r} (pose maps need keypoints "
                             "(T, N, 133, 2), scores (T, N, 133), image_size (2,))")  # fmt: skip
    size = np.asarray(data["image_size"]).reshape(-1)
    if size.shape != (2,):
        raise ValueError(f"image_size: expected (height, width), got shape {size.shape}")
    style = _style(args)
    fps = args.fps or float(data.get("fps", 30.0))
    _write_config(out, args, style=style.__dict__, fps=fps)
    kp = data["keypoints"]
    metrics, frames = _Metrics(out), []
    smooth_kw = {"window": args.window} if args.smooth == "savgol" else {}
    image_size = (int(size[0]), int(size[1]))
    seq = pose_sequence(
        kp,
        data["scores"],
        image_size,
        args.resolution,
        style,
        args.smooth,
        track=not args.no_track,
        **smooth_kw,
    )
    bar = tqdm(total=len(kp), desc="pose maps", unit="frame")
    start = time.perf_counter()

    def record(t, frame):
        frames.append(frame)
        metrics.write(frame=t, people=len(frame.people), height=frame.height, width=frame.width)
        bar.update()

    try:
        n = write_maps(out, seq, "pose", None if args.no_video or len(kp) < 2 else fps, record)
    finally:
        bar.close()
        metrics.close()
    write_openpose_json(out / "openpose.json", frames, style)
    log.info("%d pose maps in %.2f s -> %s", n, time.perf_counter() - start, out)
    return n


def _vertices(args, data: dict) -> tuple[np.ndarray, np.ndarray]:
    if "vertices" in data:
        if "faces" not in data:
            raise ValueError(f"{args.input}: vertices given without faces")
        v = np.asarray(data["vertices"], dtype=np.float64)
        return (v[None] if v.ndim == 2 else v), np.asarray(data["faces"])
    from body_models.forward import PARAM_KEYS, body_forward
    from body_models.model_file import load_model_file

    name = args.model or (str(data["model"]) if "model" in data else "open")
    model = load_model_file(name)
    params = {k: v for k, v in data.items() if k in PARAM_KEYS}  # fit files carry more arrays
    return body_forward(model, params, vertices=True).vertices, model.faces


def _mesh_camera(args, verts):
    """--camera (resized so the short side is --resolution) or a camera framing ``verts``."""
    if args.camera:
        camera = load_camera(args.camera)
        if args.resolution:
            k = args.resolution / min(camera.height, camera.width)
            camera = resize_camera(camera, *round_size(camera.height * k, camera.width * k, 8))
        return camera
    return framing_camera(verts, resolution=args.resolution or 512)


def run_mesh(args, data: dict, out: Path) -> int:
    verts, faces = _vertices(args, data)
    camera = _mesh_camera(args, verts)
    near, far = args.near, args.far
    if near is None and far is None and len(verts) > 1:  # one range for all frames: no flicker
        z = camera.world_to_camera(verts.reshape(-1, 3))[:, 2]
        z = z[z > 1e-3]
        near, far = (float(z.min()), float(z.max())) if z.size else (None, None)
    fps = args.fps or float(data.get("fps", 30.0))
    cam = {"fx": camera.fx, "fy": camera.fy, "cx": camera.cx, "cy": camera.cy,
           "width": camera.width, "height": camera.height, "R": camera.R.tolist(),
           "t": camera.t.tolist()}  # fmt: skip
    _write_config(out, args, camera=cam, near=near, far=far, fps=fps)
    metrics = _Metrics(out)
    bar = tqdm(total=len(verts), desc=f"{args.kind} maps", unit="frame")
    seq = mesh_sequence(verts, faces, camera, args.kind, near, far, tuple(args.normal_background))

    def record(t, _):
        metrics.write(frame=t, height=camera.height, width=camera.width)
        bar.update()

    try:
        video_fps = None if args.no_video or len(verts) < 2 else fps
        return write_maps(out, seq, args.kind, video_fps, record)
    finally:
        bar.close()
        metrics.close()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = Path(args.out)
    try:
        if args.resolution is not None and args.resolution <= 0:
            raise ValueError(f"--resolution: expected a positive integer, got {args.resolution}")
        data = load_npz(args.input)
        out.mkdir(parents=True, exist_ok=True)
        (run_pose if args.kind == "pose" else run_mesh)(args, data, out)
    except ValueError as err:
        parser.exit(2, f"error: {err}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Speed of ControlNet map generation, as ratios against peers measured in the same run.

python -m experiments.bench_controlnet [--poses 50] [--people 2] [--mesh-level 5] [--ray-size 96]

1. Pose maps at 512x512 from the same random 133-keypoint poses: ours (``pose_map``) next to
   controlnet_aux's own DWposeDetector post-processing + drawing (network replaced by a stub
   returning the keypoints; needs ``pip install --no-deps controlnet_aux``).
2. Depth + normal maps at 512x512 of an icosphere mesh (level 5: 10,242 vertices, 20,480
   faces, SMPL-X sized) with our numpy z-buffer rasterizer, next to trimesh ray casting
   (needs ``rtree``) on a ``--ray-size`` square image, compared per pixel.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
import time
import types
import warnings

import numpy as np

from wholebody.camera import Camera
from wholebody.controlnet import depth_map, normal_map, pose_map, render_mesh
from wholebody.keypoints import COCO_WHOLEBODY


def random_poses(rng, count: int, people: int, size: int):
    """Human-proportioned random poses: body spread, face around the nose, hands at wrists."""
    kp = np.zeros((count, people, 133, 2), np.float32)
    for c in range(count):
        for p in range(people):
            centre, scale = rng.uniform(0.2, 0.8, 2) * size, rng.uniform(0.1, 0.25) * size
            kp[c, p] = centre + rng.normal(0, scale, (133, 2))
            nose = kp[c, p, COCO_WHOLEBODY.index("nose")]
            kp[c, p, COCO_WHOLEBODY.parts["face"]] = nose + rng.normal(0, scale * 0.1, (68, 2))
            for side in ("left", "right"):
                wrist = kp[c, p, COCO_WHOLEBODY.index(f"{side}_wrist")]
                idx = COCO_WHOLEBODY.parts[f"{side}_hand"]
                kp[c, p, idx] = wrist + rng.normal(0, scale * 0.1, (21, 2))
    scores = rng.uniform(0.2, 1.0, kp.shape[:-1]).astype(np.float32)
    return kp, scores


def controlnet_aux_detector():
    """controlnet_aux's DWposeDetector with the network stubbed, or None if not installed."""
    spec = importlib.util.find_spec("controlnet_aux")
    if spec is None:
        return None
    if "controlnet_aux" not in sys.modules:  # skip its __init__ (imports every annotator)
        pkg = types.ModuleType("controlnet_aux")
        pkg.__path__, pkg.__spec__ = list(spec.submodule_search_locations), spec
        sys.modules["controlnet_aux"] = pkg
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dw = importlib.import_module("controlnet_aux.dwpose")
        wb = importlib.import_module("controlnet_aux.dwpose.wholebody")
    ns = types.SimpleNamespace
    boxes = ns(bboxes=np.zeros((0, 4)), scores=np.zeros(0), labels=np.zeros(0))
    boxes.cpu = lambda: ns(numpy=lambda: boxes)
    current = {}

    class Preds(dict):
        __getattr__ = dict.__getitem__

    wb.inference_detector = lambda det, img: ns(pred_instances=boxes)
    wb.nms = lambda b, thr: []
    wb.inference_topdown = lambda model, img, *a: ["pose"]
    wb.merge_data_samples = lambda r: ns(pred_instances=Preds(
        keypoints=current["kp"].copy(), keypoint_scores=current["sc"].copy(),
        keypoints_visible=current["sc"].copy()))  # fmt: skip
    est = wb.Wholebody.__new__(wb.Wholebody)
    est.detector = est.pose_estimator = None
    det = dw.DWposeDetector.__new__(dw.DWposeDetector)
    det.pose_estimation = est

    def run(kp, sc, size):
        current["kp"], current["sc"] = kp, sc
        return det(np.zeros((size, size, 3), np.uint8), size, size, output_type="np")

    return run


def timed(fn, items, repeat: int = 1) -> float:
    """Best-of-``repeat`` seconds per item."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            fn(*item)
        best = min(best, (time.perf_counter() - start) / len(items))
    return best


def bench_pose(args) -> dict:
    rng = np.random.default_rng(0)
    kp, sc = random_poses(rng, args.poses, args.people, 512)
    items = list(zip(kp, sc))
    ours = timed(lambda k, s: pose_map(k, s, (512, 512)), items, args.repeat)
    row = {"bench": "pose_512", "people": args.people, "ours_maps_per_s": 1 / ours}
    ref = controlnet_aux_detector()
    if ref is None:
        print("controlnet_aux not installed: pose maps peer skipped")
        return row
    same = all(np.array_equal(pose_map(k, s, (512, 512)), ref(k, s, 512)) for k, s in items[:5])
    t_ref = timed(lambda k, s: ref(k, s, 512), items, args.repeat)
    row.update(controlnet_aux_maps_per_s=1 / t_ref, speedup=t_ref / ours, identical=same)
    print(
        f"pose maps 512x512, {args.people} people: ours {1 / ours:8.1f}/s  controlnet_aux "
        f"{1 / t_ref:8.1f}/s  ratio {t_ref / ours:5.2f}x  (identical output: {same})"
    )
    return row


def _sphere(level: int):
    import trimesh

    m = trimesh.creation.icosphere(level)
    return m.vertices * 0.5 + [0, 0, 3.0], np.asarray(m.faces)


def bench_mesh(args) -> dict:
    v, f = _sphere(args.mesh_level)
    cam = Camera.from_fov(40, 512, 512)

    def both():
        r = render_mesh(v, f, cam)
        depth_map(r), normal_map(r)

    ours = timed(both, [()] * 3, args.repeat)
    row = {"bench": "depth_normal_512", "vertices": len(v), "faces": len(f),
           "ours_maps_per_s": 1 / ours}  # fmt: skip
    print(f"depth+normal 512x512, {len(f)} faces: ours {1 / ours:6.2f} map pairs/s")
    try:
        import rtree  # noqa: F401
        import trimesh
    except ImportError:
        print("rtree not installed: trimesh ray-casting peer skipped")
        return row
    s = args.ray_size
    small = Camera.from_fov(40, s, s)
    mesh = trimesh.Trimesh(v, f, process=False)
    uv = np.stack(np.meshgrid(np.arange(s), np.arange(s)), -1).reshape(-1, 2).astype(float)
    d = small.unproject(uv, 1.0)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    start = time.perf_counter()
    mesh.ray.intersects_location(np.zeros_like(d), d, multiple_hits=False)
    ray_s = time.perf_counter() - start
    start = time.perf_counter()
    render_mesh(v, f, small, multiple=1)
    ours_small = time.perf_counter() - start
    ratio_px = (ray_s / s**2) / (ours / 512**2)
    row.update(trimesh_ray_s_per_pixel=ray_s / s**2, ours_s_per_pixel=ours / 512**2,
               per_pixel_speedup=ratio_px, same_size_speedup=ray_s / ours_small)  # fmt: skip
    print(
        f"trimesh ray casting {s}x{s}: {ray_s:.2f} s; ours at {s}x{s}: {ours_small:.3f} s "
        f"(x{ray_s / ours_small:.0f}); per pixel vs ours at 512x512: x{ratio_px:.0f}"
    )
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench_controlnet", description=__doc__.splitlines()[0])
    p.add_argument("--poses", type=int, default=50)
    p.add_argument("--people", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--mesh-level", type=int, default=5)
    p.add_argument("--ray-size", type=int, default=96)
    p.add_argument("--json", help="also write the rows to this JSON file")
    args = p.parse_args(argv)
    rows = [bench_pose(args), bench_mesh(args)]
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

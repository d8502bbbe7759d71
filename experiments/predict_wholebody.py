"""Whole-body 2D keypoints for images, an image folder or a video, in the COCO-WholeBody results
format (per person: image_id, category_id, score, keypoints / foot_kpts / face_kpts /
lefthand_kpts / righthand_kpts as flat x, y, score lists).

    python -m experiments.predict_wholebody IMAGES_OR_VIDEO --out DIR [--model NAME|PATH]
        [--boxes BOXES.json] [--detector DET.onnx] [--flip-test] [--channel-order rgb|bgr]

Boxes: ``--boxes`` (COCO detection list ``[{image_id, bbox: [x, y, w, h], score,
category_id}]`` or ``{image_id_or_file_name: [[x1, y1, x2, y2(, score)], ...]}``), else an ONNX
person detector, else the whole image. Image ids: the file stem when it is a number (COCO
names), else the index in sorted order; video frames use the frame index.
Writes ``DIR/results.json``, ``DIR/config.json`` and ``DIR/metrics.jsonl`` (timings).
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

from wholebody.evaluation.rescore import rescore_bbox_keypoint
from wholebody.evaluation.results_io import records_from_arrays, write_results
from wholebody.inference.detector import OnnxPersonDetector, WholeImageDetector
from wholebody.inference.loading import load_backend
from wholebody.inference.topdown import TopdownPredictor
from wholebody.media import IMAGE_SUFFIXES, VIDEO_SUFFIXES, iter_video_frames, read_image

log = logging.getLogger("predict_wholebody")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("input", help="image file, folder of images, or video file")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--model", default="rtmw-l-384", help="preset name (random weights!) or path")
    p.add_argument("--preset", default=None, help="architecture of a .pth (default: inferred)")
    p.add_argument("--boxes", default=None, help="boxes JSON (see module docstring)")
    p.add_argument("--detector", default=None, help="ONNX person detector (YOLOX / RTMDet)")
    p.add_argument("--det-score", type=float, default=0.3, help="detector score threshold")
    p.add_argument("--backend", choices=["torch", "ort"], default="torch")
    p.add_argument("--flip-test", action="store_true", help="average with the mirrored crop")
    p.add_argument(
        "--channel-order",
        choices=["rgb", "bgr"],
        default="rgb",
        help="order fed to the network; 'bgr' reproduces rtmlib/DWPose ONNX pipelines",
    )
    p.add_argument("--batch-size", type=int, default=32, help="crops per forward")
    p.add_argument("--frames-per-batch", type=int, default=8, help="frames cropped together")
    p.add_argument("--threads", type=int, default=None, help="ONNX Runtime intra-op threads")
    return p


def list_frames(source: Path):
    """(image_id, name, frame loader) for an image, an image folder or a video."""
    if source.is_dir():
        files = sorted(f for f in source.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder {source}")
        ids = _image_ids(files)
        return [(i, f.name, (lambda f=f: read_image(f))) for i, f in zip(ids, files, strict=True)]
    if not source.exists():
        raise ValueError(f"input not found: {source}")
    if source.suffix.lower() in IMAGE_SUFFIXES:
        return [(_image_ids([source])[0], source.name, lambda: read_image(source))]
    if source.suffix.lower() in VIDEO_SUFFIXES:
        return None  # streamed
    raise ValueError(f"unsupported input {source}: expected {IMAGE_SUFFIXES + VIDEO_SUFFIXES}")


def _image_ids(files: list[Path]) -> list[int]:
    if all(f.stem.isdigit() for f in files) and len({int(f.stem) for f in files}) == len(files):
        return [int(f.stem) for f in files]
    return list(range(len(files)))


def load_boxes(path: str) -> dict:
    """Boxes JSON -> {image_id (int) or file name (str): (boxes (N, 4) xyxy, scores (N,))}."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"boxes file not found: {p}")
    try:
        data = json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"boxes file {p} is not valid JSON: {e}") from None
    out: dict = {}
    if isinstance(data, list):  # COCO detections, xywh
        for i, d in enumerate(data):
            if not isinstance(d, dict) or "image_id" not in d or len(d.get("bbox", [])) != 4:
                raise ValueError(f"{p}: detection {i} needs image_id and bbox [x, y, w, h]")
            if d.get("category_id", 1) != 1:
                continue
            x, y, w, h = d["bbox"]
            box, score = [x, y, x + w, y + h], float(d.get("score", 1.0))
            out.setdefault(int(d["image_id"]), ([], []))
            out[int(d["image_id"])][0].append(box)
            out[int(d["image_id"])][1].append(score)
    elif isinstance(data, dict):
        for key, rows in data.items():
            arr = np.asarray(rows, dtype=np.float64).reshape(-1, np.shape(rows)[-1] if rows else 4)
            if arr.shape[1] not in (4, 5):
                raise ValueError(f"{p}: boxes of {key!r} must be [x1, y1, x2, y2(, score)]")
            scores = arr[:, 4] if arr.shape[1] == 5 else np.ones(len(arr))
            out[int(key) if key.isdigit() else key] = (arr[:, :4], scores)
    else:
        raise ValueError(f"{p}: expected a list of COCO detections or a dict of boxes")
    return {
        k: (np.asarray(b, float).reshape(-1, 4), np.asarray(s, float)) for k, (b, s) in out.items()
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(vars(args), indent=2))
    backend = load_backend(args.model, args.backend, threads=args.threads, preset=args.preset)
    predictor = TopdownPredictor(
        backend, args.flip_test, args.channel_order, batch_size=args.batch_size
    )
    given = load_boxes(args.boxes) if args.boxes else None
    detector = (
        OnnxPersonDetector(args.detector, score_thr=args.det_score, threads=args.threads)
        if args.detector
        else WholeImageDetector()
    )
    source = Path(args.input)
    frames = list_frames(source)
    if frames is None:
        stream = ((i, f"frame{i}", f) for i, f in enumerate(iter_video_frames(source)))
    else:
        stream = ((i, name, load()) for i, name, load in frames)

    records: list[dict] = []
    t0, n_frames, n_people = time.perf_counter(), 0, 0
    chunk: list = []

    def flush():
        nonlocal n_people
        images = [c[2] for c in chunk]
        results = predictor.predict_frames(images, [c[3] for c in chunk])
        for (image_id, _, _, _, box_scores), res in zip(chunk, results, strict=True):
            keep = res.valid
            if not keep.any():
                continue
            score = rescore_bbox_keypoint(box_scores[keep], res.scores[keep])
            recs = records_from_arrays(
                np.full(int(keep.sum()), image_id),
                res.keypoints[keep],
                np.clip(res.scores[keep], 0.0, None),
                score,
            )
            for rec, bs in zip(recs, box_scores[keep], strict=True):
                rec["bbox_score"] = float(bs)
            records.extend(recs)
            n_people += int(keep.sum())
        chunk.clear()

    for image_id, name, image in tqdm(stream, desc="predict", unit="frame"):
        if given is not None:
            boxes, scores = given.get(image_id, given.get(name, (np.zeros((0, 4)), np.zeros(0))))
        else:
            boxes, scores = detector(image)
        chunk.append((image_id, name, image, boxes, np.asarray(scores, float)))
        n_frames += 1
        if len(chunk) >= args.frames_per_batch:
            flush()
    if chunk:
        flush()
    write_results(out / "results.json", records)
    elapsed = time.perf_counter() - t0
    metrics = {"frames": n_frames, "people": n_people, "seconds": elapsed}
    with open(out / "metrics.jsonl", "a") as f:
        f.write(json.dumps(metrics) + "\n")
    log.info(
        "%d frames, %d people in %.2f s -> %s",
        n_frames,
        n_people,
        elapsed,
        os.fspath(out / "results.json"),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Train a whole-body model (SimCC or heatmap head) on COCO-WholeBody-format data.

    python -m experiments.train_wholebody --data ANN.json|DIR [--images DIR] [--val-data ...]
        [--preset rtmpose-m] [--epochs 10] [--batch-size 32] [--lr 4e-3] [--resume]
        [--run-name NAME]

Writes ``runs/NAME/config.json``, ``metrics.jsonl`` and ``checkpoints/{latest,final}/``
(``model.safetensors`` + ``config.json``; ``final`` holds the EMA weights when EMA is on).
``--resume`` continues from ``checkpoints/latest`` with the same batches an uninterrupted run
would see; Ctrl-C saves ``latest`` first.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import tempfile
from pathlib import Path

import torch
from tqdm import tqdm

from wholebody.data.coco_wholebody import CocoWholeBodyDataset, codec_kwargs
from wholebody.data.transforms import NO_AUGMENT, AugmentConfig
from wholebody.models import create_model
from wholebody.training import TrainConfig, evaluate_model, train

logger = logging.getLogger(__name__)


def resolve_data(data: str, images: str | None) -> tuple[Path, Path]:
    """Annotation JSON and image root from ``--data`` (file or dir) and ``--images``."""
    path = Path(data)
    ann = path / "annotations.json" if path.is_dir() else path
    if not ann.is_file():
        raise ValueError(f"annotation file not found: {ann}")
    if images is not None:
        root = Path(images)
    else:
        root = ann.parent / "images" if (ann.parent / "images").is_dir() else ann.parent
    return ann, root


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="train_wholebody", description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="annotation JSON or a dir with annotations.json")
    p.add_argument("--images", help="image root (default: DATA_DIR/images or the JSON's dir)")
    p.add_argument("--val-data", help="validation annotation JSON or dir (evaluated each epoch)")
    p.add_argument("--val-images", help="validation image root")
    p.add_argument("--preset", default="rtmpose-m", help="model preset (wholebody.models.PRESETS)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=4e-3)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--warmup-steps", type=int, default=1000)
    p.add_argument("--ema", type=float, default=2e-4, help="EMA momentum (<= 0: off)")
    p.add_argument("--grad-clip", type=float, default=None)
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--checkpoint-every", type=int, default=0, help="steps (0: per epoch)")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--run-name", default="train_wholebody")
    p.add_argument("--runs-dir", default="runs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    p.add_argument("--workers", type=int, default=0, help="data loading processes")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    ann, root = resolve_data(args.data, args.images)
    model = create_model(args.preset)
    cfg = model.config
    augment = NO_AUGMENT if args.no_augment else AugmentConfig()
    common = dict(**codec_kwargs(cfg), cache_images=args.workers == 0, seed=args.seed)
    dataset = CocoWholeBodyDataset(ann, root, train=True, augment=augment, **common)
    evaluate = None
    val_ann = None
    if args.val_data:
        val_ann, val_root = resolve_data(args.val_data, args.val_images)
        val_set = CocoWholeBodyDataset(val_ann, val_root, train=False, **common)
        evaluate = lambda net: evaluate_model(net, val_set, val_ann)  # noqa: E731
    train_cfg = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, warmup_steps=args.warmup_steps,
        ema_momentum=args.ema if args.ema > 0 else None, grad_clip=args.grad_clip,
        checkpoint_every=args.checkpoint_every, seed=args.seed, num_workers=args.workers,
        device=args.device,
    )  # fmt: skip
    run_dir = Path(args.runs_dir) / args.run_name
    run_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "args": vars(args),
        "data": {"annotations": str(ann), "images": str(root), "people": len(dataset),
                 "val_annotations": str(val_ann) if val_ann else None},
        "model": cfg.to_dict(),
        "train": dataclasses.asdict(train_cfg),
        "augment": dataclasses.asdict(augment),
    }  # fmt: skip
    fd, tmp = tempfile.mkstemp(dir=run_dir, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(config, f, indent=1)
    os.replace(tmp, run_dir / "config.json")
    steps = -(-len(dataset) // args.batch_size) * args.epochs
    bar = tqdm(total=steps, desc=args.run_name, unit="step", mininterval=1.0)

    def progress(info: dict) -> None:
        if "epoch_end" in info:
            if "eval" in info:
                tqdm.write(f"epoch {info['epoch_end']}: {json.dumps(info['eval'])}")
            return
        bar.set_postfix(loss=f"{info['loss']:.4f}", lr=f"{info['lr']:.2e}", refresh=False)
        bar.update(info["step"] - bar.n)

    try:
        state = train(model, dataset, train_cfg, run_dir, resume=args.resume, callback=progress,
                      evaluate=evaluate)  # fmt: skip
    finally:
        bar.close()
    loss = state.get("loss", float("nan"))
    logger.info("done: step %d, loss %.4f, run dir %s", state["step"], loss, run_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Validation during training: predict every ground-truth box of a dataset and evaluate.

Uses the dataset's own crops (no augmentation), SimCC argmax or heatmap DARK decoding and
the inverse crop transform; person score = mean keypoint score (scores clipped to [1e-6, 1]
so every part of every prediction is evaluated).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from wholebody.codecs.heatmap import decode_heatmap, flip_heatmap
from wholebody.codecs.simcc import decode_simcc, flip_simcc
from wholebody.crop import warp_from_crop
from wholebody.data.coco_wholebody import CocoWholeBodyDataset, collate
from wholebody.evaluation.cocoeval_wholebody import evaluate_wholebody
from wholebody.evaluation.results_io import records_from_arrays
from wholebody.keypoints import COCO_WHOLEBODY


def _predict_simcc(model, images, split_ratio, flip_test):
    pred_x, pred_y = model(images)
    if flip_test:
        fx, fy = model(images.flip(-1))
        fx, fy = flip_simcc(fx, fy, COCO_WHOLEBODY.flip_indices)
        pred_x, pred_y = (pred_x + fx) / 2, (pred_y + fy) / 2
    return decode_simcc(pred_x.cpu().numpy(), pred_y.cpu().numpy(), split_ratio)


def _predict_heatmaps(model, images, input_size, flip_test):
    heat = model(images)
    if flip_test:
        heat = (heat + flip_heatmap(model(images.flip(-1)), COCO_WHOLEBODY.flip_indices)) / 2
    return decode_heatmap(heat.cpu().numpy(), input_size)


@torch.no_grad()
def predict_dataset(
    model: nn.Module, dataset: CocoWholeBodyDataset, batch_size: int = 32, flip_test: bool = False
) -> list[dict]:
    """Results records for every person of ``dataset`` (ground-truth boxes).

    ``flip_test`` averages the outputs of the mirrored crop (keypoints swapped by
    ``COCO_WHOLEBODY.flip_indices``, x reversed) with the plain ones before decoding; SimCC
    logits are decoded by argmax, heatmaps (datasets with ``heatmap_size``) with DARK.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    ids, kpts, scores = [], [], []
    for start in range(0, len(dataset), batch_size):
        batch = collate([dataset[i] for i in range(start, min(start + batch_size, len(dataset)))])
        images = batch["image"].to(device)
        if dataset.heatmap_size is not None:
            xy, sc = _predict_heatmaps(model, images, dataset.input_size, flip_test)
        else:
            xy, sc = _predict_simcc(model, images, dataset.split_ratio, flip_test)
        kpts.append(warp_from_crop(xy, batch["center"], batch["scale"], dataset.input_size))
        scores.append(sc)
        ids.extend(dataset.instances[int(i)].image_id for i in batch["index"])
    model.train(was_training)
    if not ids:
        return []
    k = np.concatenate(kpts)
    s = np.clip(np.concatenate(scores), 1e-6, 1.0)
    return records_from_arrays(np.array(ids), k, s, s.mean(axis=1))


def evaluate_model(
    model: nn.Module,
    dataset: CocoWholeBodyDataset,
    gt,
    batch_size: int = 32,
    flip_test: bool = False,
) -> dict[str, float]:
    """``{part/AP: ..., part/AR: ...}`` of ``model`` on ``dataset`` against annotations ``gt``."""
    metrics = evaluate_wholebody(gt, predict_dataset(model, dataset, batch_size, flip_test))
    flat = {}
    for part, stats in metrics.items():
        flat[f"{part}/AP"] = stats["AP"]
        flat[f"{part}/AR"] = stats["AR"]
    return flat

"""The Human3.6M evaluation protocol: per-frame errors, per-action table, action average.

Averaging (VideoPose3D ``run.py`` and MotionBERT ``train.py``): errors are frame-weighted
within an action (both sub-actions, all subjects and cameras pooled), then the unweighted
mean over actions. Two frame schemes:

- ``"videopose3d"``: every frame of every sequence, once;
- ``"motionbert"``: non-overlapping clips of ``clip_len`` frames; a sequence's tail after its
  last full clip is not scored, a sequence shorter than a clip is resampled to one clip, and
  a frame seen in several clips gets the mean of its errors.

Both prediction and ground truth are made root-relative (root joint by name) before scoring.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from lifting.data.clips import clip_indices
from lifting.data.dataset import root_relative
from lifting.metrics import mpjpe, n_mpjpe, p_mpjpe
from wholebody.keypoints import H36M, KeypointSet

logger = logging.getLogger(__name__)

SCHEMES = ("videopose3d", "motionbert")
METRICS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "mpjpe": mpjpe,
    "p_mpjpe": p_mpjpe,
    "n_mpjpe": n_mpjpe,
}


def frame_errors(
    pred,
    gt,
    scheme: str = "videopose3d",
    clip_len: int = 243,
    metrics: Iterable[str] = ("mpjpe", "p_mpjpe"),
    kset: KeypointSet = H36M,
) -> dict[str, np.ndarray]:
    """Per-frame errors of one sequence ``(N, J, 3)``; frames not scored are NaN.

    ``pred`` may also be clip predictions ``(K, clip_len, J, 3)`` made on the scheme's clips
    (``"motionbert"`` only); errors of a frame seen in several clips are averaged.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme: expected one of {SCHEMES}, got {scheme!r}")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"metrics: expected names in {sorted(METRICS)}, got {unknown}")
    gt = np.asarray(gt, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    if gt.ndim != 3 or gt.shape[1:] != (len(kset), 3):
        raise ValueError(f"gt: expected shape (N, {len(kset)}, 3), got {gt.shape}")
    gt = root_relative(gt, kset)
    n = len(gt)
    if scheme == "videopose3d":
        if pred.shape != gt.shape:
            raise ValueError(f"pred: expected shape {gt.shape}, got {pred.shape}")
        pred = root_relative(pred, kset)
        return {m: METRICS[m](pred, gt) for m in metrics}
    idx = clip_indices(n, clip_len, clip_len, tail="drop" if n >= clip_len else "resample")
    if pred.shape == gt.shape:
        pred_clips = pred[idx]
    elif pred.shape == (len(idx), clip_len) + gt.shape[1:]:
        pred_clips = pred
    else:
        raise ValueError(
            f"pred: expected {gt.shape} per frame or {(len(idx), clip_len) + gt.shape[1:]} "
            f"clips, got {pred.shape}"
        )
    pred_clips = root_relative(pred_clips, kset)
    gt_clips = gt[idx]
    count = np.zeros(n)
    np.add.at(count, idx.ravel(), 1.0)
    out = {}
    for m in metrics:
        total = np.zeros(n)
        np.add.at(total, idx.ravel(), METRICS[m](pred_clips, gt_clips).ravel())
        out[m] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return out


@dataclass(frozen=True)
class ActionTable:
    """Per-action errors and their average.

    Attributes:
        actions: action names, sorted.
        errors: metric -> ``{action: mean error}`` (input units; mm if inputs were mm).
        frames: action -> number of scored frames.
    """

    actions: tuple[str, ...]
    errors: dict[str, dict[str, float]]
    frames: dict[str, int]

    def average(self, metric: str) -> float:
        """Unweighted mean over actions."""
        return float(np.mean([self.errors[metric][a] for a in self.actions]))

    def averages(self) -> dict[str, float]:
        return {m: self.average(m) for m in self.errors}

    def format(self, scale: float = 1.0, unit: str = "mm") -> str:
        """Plain-text table: one row per metric, one column per action, then the average."""
        names = list(self.actions) + ["Average"]
        width = max(8, max(len(a) for a in names) + 1)
        lines = [f"{'metric (' + unit + ')':<16}" + "".join(f"{a:>{width}}" for a in names)]
        for m, per in self.errors.items():
            vals = [per[a] * scale for a in self.actions] + [self.average(m) * scale]
            lines.append(f"{m:<16}" + "".join(f"{v:>{width}.1f}" for v in vals))
        return "\n".join(lines)


def action_table(
    errors: Mapping[str, Mapping[str, np.ndarray]], actions: Mapping[str, str]
) -> ActionTable:
    """Pool per-frame errors by action (NaN frames skipped) into an `ActionTable`.

    Args:
        errors: sequence key -> metric -> ``(N,)`` per-frame errors.
        actions: sequence key -> action label.
    """
    if not errors:
        raise ValueError("action_table: expected at least one sequence, got none")
    pooled: dict[str, dict[str, list[np.ndarray]]] = {}
    metric_names = None
    for key, per_metric in errors.items():
        names = tuple(per_metric)
        if metric_names is None:
            metric_names = names
        elif names != metric_names:
            raise ValueError(f"{key}: metrics {names} differ from {metric_names}")
        if key not in actions:
            raise ValueError(f"no action label for sequence {key!r}")
        for m, e in per_metric.items():
            pooled.setdefault(actions[key], {}).setdefault(m, []).append(np.asarray(e).ravel())
    table: dict[str, dict[str, float]] = {m: {} for m in metric_names}
    frames = {}
    for action, per_metric in sorted(pooled.items()):
        for m, parts in per_metric.items():
            vals = np.concatenate(parts)
            vals = vals[np.isfinite(vals)]
            if m == metric_names[0]:
                frames[action] = int(vals.size)
            table[m][action] = float(vals.mean()) if vals.size else float("nan")
    kept = tuple(a for a in sorted(pooled) if frames[a] > 0)
    table = {m: {a: per[a] for a in kept} for m, per in table.items()}
    return ActionTable(actions=kept, errors=table, frames={a: frames[a] for a in kept})


def evaluate_sequences(
    predictions: Mapping[str, np.ndarray],
    ground_truth: Mapping[str, np.ndarray],
    actions: Mapping[str, str],
    scheme: str = "videopose3d",
    clip_len: int = 243,
    metrics: Iterable[str] = ("mpjpe", "p_mpjpe"),
    exclude: Iterable[str] = (),
    kset: KeypointSet = H36M,
    truncate: bool = True,
) -> ActionTable:
    """Score predictions against ground truth with the chosen scheme -> `ActionTable`.

    Args:
        predictions: key -> ``(N, J, 3)`` per-frame prediction (same unit as ``ground_truth``).
        ground_truth: key -> ``(N, J, 3)`` camera-frame joints; every key must be predicted.
        actions: key -> action label (e.g. ``action_group`` of the action name).
        exclude: keys (or key prefixes such as ``"S9/Greeting 1/"``) left out of the table.
        truncate: allow predictions longer than the ground truth (2D tracks can be a few
            frames longer than the mocap) and cut them; shorter ones are an error.
    """
    exclude = tuple(exclude)
    keys = [k for k in ground_truth if not any(k == e or k.startswith(e) for e in exclude)]
    missing = [k for k in keys if k not in predictions]
    if missing:
        raise ValueError(f"predictions: missing {len(missing)} sequences, e.g. {missing[:3]}")
    extra = sorted(set(predictions) - set(ground_truth))
    if extra:
        logger.warning("ignoring %d predictions without ground truth: %s", len(extra), extra[:3])
    errors = {}
    for key in keys:
        gt = np.asarray(ground_truth[key])
        pred = np.asarray(predictions[key])
        if truncate and pred.ndim == 3 and len(pred) > len(gt):
            pred = pred[: len(gt)]
        if not np.all(np.isfinite(pred)):
            raise ValueError(f"predictions[{key!r}]: expected finite values, got NaN/inf")
        try:
            errors[key] = frame_errors(pred, gt, scheme, clip_len, metrics, kset)
        except ValueError as err:
            raise ValueError(f"{key}: {err}") from None
    return action_table(errors, actions)


def evaluate_motionbert_split(
    split,
    pred_clips,
    clip_index,
    exclude: Iterable[str] | None = None,
    metrics: Iterable[str] = ("mpjpe", "p_mpjpe"),
) -> ActionTable:
    """MotionBERT's H36M evaluation on its pickle's test split (errors in mm).

    Args:
        split: the ``"test"`` `lifting.data.motionbert.MotionBERTSplit`.
        pred_clips: ``(K, T, 17, 3)`` predictions in MotionBERT's network space (screen
            normalised x, y; depth scaled like x).
        clip_index: ``(K, T)`` frame indices of the clips into the split
            (`lifting.data.motionbert_split_clips` with stride T).
        exclude: sequence names (``source`` without the camera) to skip; default
            `MOTIONBERT_EXCLUDED`.

    Predictions are mapped back to pixel units, multiplied by the per-frame ``2.5d_factor``
    and compared root-relative with ``joints_2.5d_image``; a frame in several clips gets the
    mean of its errors; then frame-weighted per action and averaged over actions.
    """
    from lifting.data.h36m_cameras import camera_resolution
    from lifting.data.motionbert import MOTIONBERT_EXCLUDED

    exclude = set(MOTIONBERT_EXCLUDED if exclude is None else exclude)
    pred_clips = np.asarray(pred_clips, dtype=np.float64)
    clip_index = np.asarray(clip_index, dtype=np.int64)
    if split.factor_2_5d is None or split.joints_2_5d is None or split.action is None:
        raise ValueError("evaluate_motionbert_split: expected the test split (2.5d_factor etc.)")
    if pred_clips.shape != clip_index.shape + (17, 3):
        raise ValueError(
            f"pred_clips: expected shape {clip_index.shape + (17, 3)}, got {pred_clips.shape}"
        )
    if not np.all(np.isfinite(pred_clips)):
        raise ValueError("pred_clips: expected finite values, got NaN/inf")
    n = len(split)
    sums = {m: np.zeros(n) for m in metrics}
    count = np.zeros(n)
    for clip, idx in zip(pred_clips, clip_index, strict=True):
        if split.sequence_name(idx[0]) in exclude:
            continue
        w, h = camera_resolution(str(split.camera_name[idx[0]]))
        pred = clip.copy()
        pred[..., :2] = (pred[..., :2] + [1.0, h / w]) * w / 2.0
        pred[..., 2] *= w / 2.0
        pred *= split.factor_2_5d[idx][:, None, None]
        gt = np.asarray(split.joints_2_5d[idx], dtype=np.float64)
        pred = pred - pred[:, :1]
        gt = gt - gt[:, :1]
        for m in metrics:
            np.add.at(sums[m], idx, METRICS[m](pred, gt))
        np.add.at(count, idx, 1.0)
    seen = count > 0
    errors = {
        m: {
            a: (s / np.maximum(count, 1))[seen & (split.action == a)]
            for a in np.unique(split.action[seen])
        }
        for m, s in sums.items()
    }
    per_action = {a: {m: errors[m][a] for m in metrics} for a in errors[next(iter(metrics))]}
    return action_table(per_action, {a: a for a in per_action})

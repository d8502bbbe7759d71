"""COCO-WholeBody keypoint AP/AR per part, numerically identical to xtcocotools.

Protocol (xtcocotools ``COCOeval`` with ``keypoints_{body,foot,face,lefthand,righthand,
wholebody}``, ``use_area=True``, as MMPose's ``CocoWholeBodyMetric`` calls it): per-part sigmas,
a ground truth is ignored for a part when crowd or when the part has no labelled keypoint,
predictions with no positive keypoint score in the part are dropped, at most 20 predictions per
image (highest score first), greedy matching per OKS threshold 0.50:0.05:0.95, precision at 101
recall points, area ranges all / medium (32^2-96^2) / large (> 96^2).

Everything is vectorised: OKS over all same-image pairs at once, and greedy matching over all
images, thresholds and area ranges at once, one prediction rank at a time.
"""

from __future__ import annotations

import logging

import numpy as np

from wholebody.evaluation.coco_arrays import (
    PART_SCORE_KEYS,
    DetectionArrays,
    GroundTruthArrays,
    detection_arrays,
    ground_truth_arrays,
)
from wholebody.evaluation.oks import oks_pairs
from wholebody.keypoints import COCO_WHOLEBODY

logger = logging.getLogger(__name__)

PARTS = ("body", "foot", "face", "left_hand", "right_hand", "wholebody")
STAT_NAMES = (
    "AP",
    "AP .5",
    "AP .75",
    "AP (M)",
    "AP (L)",
    "AR",
    "AR .5",
    "AR .75",
    "AR (M)",
    "AR (L)",
)
IOU_THRS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
REC_THRS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
AREA_RANGES = ((0**2, 1e5**2), (32**2, 96**2), (96**2, 1e5**2))  # all, medium, large
MAX_DETS = 20


def part_keypoints(part: str) -> np.ndarray:
    """Indices into the 133 layout of a part name or ``"wholebody"`` (all parts, in order)."""
    parts = COCO_WHOLEBODY.parts
    if part == "wholebody":
        return np.concatenate([parts[p] for p in PARTS[:-1]])
    if part not in parts:
        raise ValueError(f"unknown part {part!r}, expected one of {list(PARTS)}")
    return parts[part]


def _last_argmax(values: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the last maximum of ``values`` among ``cand`` along the last axis, and whether
    any candidate exists (xtcocotools keeps the later of equal OKS)."""
    masked = np.where(cand, values, -np.inf)
    best = masked.max(axis=-1, keepdims=True)
    hit = cand & (masked == best)
    last = hit.shape[-1] - 1 - np.argmax(hit[..., ::-1], axis=-1)
    return last, cand.any(axis=-1)


def _match_bucket(ious, n_dt, gt_valid, gt_ig, crowd, thr):
    """Greedy matching of groups (image, category) padded to the same sizes.

    Args:
        ious: ``(n, R, Gb)`` OKS of rank-r prediction vs ground truth (padding arbitrary).
        n_dt: ``(n,)`` predictions per group (<= R).
        gt_valid: ``(n, Gb)`` real ground truths.
        gt_ig: ``(A, n, Gb)`` ignore flags per area range.
        crowd: ``(n, Gb)`` crowd flags (crowd ground truths may match many predictions).
        thr: ``(T,)`` thresholds.

    Returns:
        matched ``(A, T, n, R)`` bool and ``matched_ignored`` ``(A, T, n, R)`` bool.
    """
    num_a, n, gb = gt_ig.shape
    r_max = ious.shape[1]
    t = len(thr)
    taken = np.zeros((num_a, t, n, gb), dtype=bool)
    matched = np.zeros((num_a, t, n, r_max), dtype=bool)
    matched_ig = np.zeros((num_a, t, n, r_max), dtype=bool)
    thr_b = thr[None, :, None, None]
    for r in range(r_max):
        act = np.flatnonzero(n_dt > r)
        if len(act) == 0:
            break
        iou = ious[act, r][None, None]  # (1, 1, m, Gb)
        ig = gt_ig[:, act][:, None]  # (A, 1, m, Gb)
        avail = gt_valid[act] & ~(taken[:, :, act] & ~crowd[act])
        cand = avail & (iou >= thr_b)
        idx1, has1 = _last_argmax(np.broadcast_to(iou, cand.shape), cand & ~ig)
        idx2, has2 = _last_argmax(np.broadcast_to(iou, cand.shape), cand & ig)
        m = np.where(has1, idx1, idx2)
        hit = has1 | has2
        a_i, t_i, g_i = np.nonzero(hit)
        taken[a_i, t_i, act[g_i], m[a_i, t_i, g_i]] = True
        matched[:, :, act, r] = hit
        m_ig = np.take_along_axis(np.broadcast_to(ig, cand.shape), m[..., None], axis=-1)[..., 0]
        matched_ig[:, :, act, r] = hit & m_ig
    return matched, matched_ig


def _columns(idx: np.ndarray) -> slice | np.ndarray:
    """A slice for contiguous keypoint indices (views instead of copies), else the indices."""
    if len(idx) and np.array_equal(idx, np.arange(idx[0], idx[0] + len(idx))):
        return slice(int(idx[0]), int(idx[0]) + len(idx))
    return idx


_BOUND_THR = 0.49  # below the lowest OKS threshold 0.5, with a margin for rounding


def _boxes(kpts: np.ndarray, cols, labelled_only: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-person keypoint box corners ``(N, 2)`` over ``cols`` (optionally labelled only)."""
    x, y = kpts[:, cols, 0], kpts[:, cols, 1]
    if labelled_only:
        lab = kpts[:, cols, 2] > 0
        lo = np.stack([np.where(lab, x, np.inf).min(1), np.where(lab, y, np.inf).min(1)], 1)
        hi = np.stack([np.where(lab, x, -np.inf).max(1), np.where(lab, y, -np.inf).max(1)], 1)
        return lo, hi
    return np.stack([x.min(1), y.min(1)], 1), np.stack([x.max(1), y.max(1)], 1)


def _oks_bound(d_lo, d_hi, g_lo, g_hi, g_area, sigmas) -> np.ndarray:
    """Upper bound of each pair's OKS from the gap between the prediction's keypoint box and
    the ground truth's labelled-keypoint box (or, without labels, its enlarged box region):
    every keypoint distance is at least that gap, so OKS <= exp(-gap^2 / max var / area / 2).
    All inputs are per pair."""
    gap = np.maximum(0, np.maximum(g_lo - d_hi, d_lo - g_hi))
    var_max = ((np.asarray(sigmas) * 2) ** 2).max()
    e = (gap**2).sum(axis=1) / var_max / (g_area + np.spacing(1)) / 2
    return np.exp(-e)


def _precision_recall(tp, fp, npig):
    """Interpolated precision ``(T, R)`` and recall ``(T,)`` from score-sorted tp/fp flags."""
    tp_sum = np.cumsum(tp, axis=1).astype(np.float64)
    fp_sum = np.cumsum(fp, axis=1).astype(np.float64)
    nd = tp.shape[1]
    num_t = tp.shape[0]
    if nd == 0:
        return np.zeros((num_t, len(REC_THRS))), np.zeros(num_t)
    rc = tp_sum / npig
    pr = tp_sum / (fp_sum + tp_sum + np.spacing(1))
    pr = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]
    precision = np.zeros((num_t, len(REC_THRS)))
    for t in range(num_t):
        inds = np.searchsorted(rc[t], REC_THRS, side="left")
        inside = inds < nd
        precision[t, inside] = pr[t, inds[inside]]
    return precision, rc[:, -1]


def evaluate_part(
    gt: GroundTruthArrays, dt: DetectionArrays, part: str, use_area: bool = True
) -> dict[str, float]:
    """AP/AR of one part (or ``"wholebody"``) with the xtcocotools protocol."""
    idx = part_keypoints(part)
    sigmas = COCO_WHOLEBODY.sigmas[idx]
    num_k = len(gt.cat_ids)
    num_a, num_t = len(AREA_RANGES), len(IOU_THRS)
    # ground truth, ordered by group = (image, category), file order within a group
    g_gid = gt.image_index * num_k + gt.cat_index
    g_order = np.argsort(g_gid, kind="stable")
    g_gid = g_gid[g_order]
    cols = _columns(idx)
    g_num_lab = (gt.kpts[:, cols, 2] > 0).sum(axis=1)[g_order]
    g_crowd = gt.iscrowd[g_order]
    g_bbox = gt.bbox[g_order]
    g_area_field = gt.area[g_order]
    if use_area and np.isnan(g_area_field).any():
        raise ValueError("ground truth: every annotation needs 'area' when use_area=True")
    g_area = g_area_field if use_area else g_bbox[:, 2] * g_bbox[:, 3] * 0.53
    g_area_rng = np.where(np.isnan(g_area_field), g_bbox[:, 2] * g_bbox[:, 3] * 0.53, g_area)
    g_ig_base = g_crowd | (g_num_lab == 0)
    lo = np.array([a[0] for a in AREA_RANGES])[:, None]
    hi = np.array([a[1] for a in AREA_RANGES])[:, None]
    g_ig = g_ig_base[None] | (g_area_rng[None] < lo) | (g_area_rng[None] > hi)  # (A, G)
    num_groups = len(gt.image_ids) * num_k
    g_count = np.bincount(g_gid, minlength=num_groups)
    g_start = np.concatenate([[0], np.cumsum(g_count)[:-1]])
    g_local = np.arange(len(g_gid)) - g_start[g_gid]

    # predictions: drop those without a positive score in the part, sort, keep 20 per group
    score = dt.scores.get(PART_SCORE_KEYS[part], dt.scores["score"])
    keep = np.flatnonzero((dt.kpts[:, cols, 2] > 0).any(axis=1))
    d_gid = (dt.image_index * num_k + dt.cat_index)[keep]
    order = np.lexsort((-score[keep], d_gid))
    sel = keep[order]
    d_gid = d_gid[order]
    d_count = np.bincount(d_gid, minlength=num_groups)
    d_start = np.concatenate([[0], np.cumsum(d_count)[:-1]])
    d_rank = np.arange(len(d_gid)) - d_start[d_gid]
    top = d_rank < MAX_DETS
    sel, d_gid = sel[top], d_gid[top]
    d_score, d_area = score[sel], dt.area[sel]

    # OKS of every same-group pair
    per_dt = g_count[d_gid]
    pair_d = np.repeat(np.arange(len(d_gid)), per_dt)
    pair_g = np.repeat(g_start[d_gid], per_dt) + (
        np.arange(per_dt.sum()) - np.repeat(np.cumsum(per_dt) - per_dt, per_dt)
    )
    # Only pairs whose OKS can reach the lowest threshold (0.5) matter for matching; an upper
    # bound from box-to-box distances skips the rest exactly (their OKS is set to -1).
    d_lo, d_hi = _boxes(dt.kpts, cols, labelled_only=False)
    g_lo, g_hi = _boxes(gt.kpts, cols, labelled_only=True)
    has = g_num_lab > 0
    g_lo = np.where(has[:, None], g_lo[g_order], g_bbox[:, :2] - g_bbox[:, 2:])
    g_hi = np.where(has[:, None], g_hi[g_order], g_bbox[:, :2] + 2 * g_bbox[:, 2:])
    pd, pg = sel[pair_d], pair_g
    near = _oks_bound(d_lo[pd], d_hi[pd], g_lo[pg], g_hi[pg], g_area[pg], sigmas) >= _BOUND_THR
    pair_oks = np.full(len(pair_d), -1.0)
    pair_oks[near] = oks_pairs(
        dt.kpts[sel[pair_d[near]]][:, cols, :2],
        gt.kpts[g_order[pair_g[near]]][:, cols],
        g_area[pair_g[near]],
        g_bbox[pair_g[near]],
        sigmas,
    )

    # greedy matching, groups bucketed by ground-truth count to bound the padding. Only pairs
    # with OKS >= 0.5 can ever match, so predictions without one are left out of the loop
    # (the order of the others is unchanged).
    thr = np.minimum(IOU_THRS, 1 - 1e-10)
    d_matched = np.zeros((num_a, num_t, len(d_gid)), dtype=bool)
    d_matched_ig = np.zeros((num_a, num_t, len(d_gid)), dtype=bool)
    live = pair_oks >= thr[0]
    live_d = np.unique(pair_d[live])
    l_gid = d_gid[live_d]
    l_count = np.bincount(l_gid, minlength=num_groups)
    l_start = np.concatenate([[0], np.cumsum(l_count)[:-1]])
    l_rank = np.full(len(d_gid), -1, dtype=np.int64)
    l_rank[live_d] = np.arange(len(live_d)) - l_start[l_gid]
    busy = np.flatnonzero((g_count > 0) & (l_count > 0))
    if len(busy):
        sizes = 2 ** np.ceil(np.log2(g_count[busy])).astype(np.int64)
        lp_d, lp_g, lp_oks = pair_d[live], pair_g[live], pair_oks[live]
        for size in np.unique(sizes):
            groups = busy[sizes == size]
            slot = np.full(num_groups, -1, dtype=np.int64)
            slot[groups] = np.arange(len(groups))
            n, r_max = len(groups), int(l_count[groups].max())
            ious = np.full((n, r_max, size), -1.0)
            inb = slot[d_gid[lp_d]] >= 0
            ious[slot[d_gid[lp_d[inb]]], l_rank[lp_d[inb]], g_local[lp_g[inb]]] = lp_oks[inb]
            gt_valid = np.arange(size)[None] < g_count[groups][:, None]
            g_rows = g_start[groups][:, None] + np.minimum(
                np.arange(size)[None], g_count[groups][:, None] - 1
            )
            gt_ig = g_ig[:, g_rows] & gt_valid[None]
            crowd = g_crowd[g_rows] & gt_valid
            matched, matched_ig = _match_bucket(ious, l_count[groups], gt_valid, gt_ig, crowd, thr)
            dsel = live_d[slot[l_gid] >= 0]
            d_matched[:, :, dsel] = matched[:, :, slot[d_gid[dsel]], l_rank[dsel]]
            d_matched_ig[:, :, dsel] = matched_ig[:, :, slot[d_gid[dsel]], l_rank[dsel]]

    # accumulate per category and area range
    precision = -np.ones((num_t, len(REC_THRS), num_k, num_a))
    recall = -np.ones((num_t, num_k, num_a))
    g_cat = g_gid % num_k
    d_cat = d_gid % num_k
    for k in range(num_k):
        dk = np.flatnonzero(d_cat == k)
        if not (g_cat == k).any() and len(dk) == 0:
            continue
        ds = dk[np.argsort(-d_score[dk], kind="mergesort")]
        for a, (a_lo, a_hi) in enumerate(AREA_RANGES):
            npig = int((~g_ig[a][g_cat == k]).sum())
            if npig == 0:
                continue
            out_of_range = (d_area[ds] < a_lo) | (d_area[ds] > a_hi)
            m = d_matched[a][:, ds]
            ignored = np.where(m, d_matched_ig[a][:, ds], out_of_range[None])
            tp = m & ~ignored
            fp = ~m & ~ignored
            precision[:, :, k, a], recall[:, k, a] = _precision_recall(tp, fp, npig)
    return _summarize(precision, recall)


def _mean_valid(s: np.ndarray) -> float:
    valid = s[s > -1]
    return float(np.mean(valid)) if valid.size else -1.0


def _summarize(precision: np.ndarray, recall: np.ndarray) -> dict[str, float]:
    t50 = np.where(IOU_THRS == 0.5)[0]
    t75 = np.where(IOU_THRS == 0.75)[0]
    values = (
        _mean_valid(precision[:, :, :, 0]),
        _mean_valid(precision[t50][:, :, :, 0]),
        _mean_valid(precision[t75][:, :, :, 0]),
        _mean_valid(precision[:, :, :, 1]),
        _mean_valid(precision[:, :, :, 2]),
        _mean_valid(recall[:, :, 0]),
        _mean_valid(recall[t50][:, :, 0]),
        _mean_valid(recall[t75][:, :, 0]),
        _mean_valid(recall[:, :, 1]),
        _mean_valid(recall[:, :, 2]),
    )
    return dict(zip(STAT_NAMES, values, strict=True))


def evaluate_wholebody(
    gt, results, parts=PARTS, use_area: bool = True
) -> dict[str, dict[str, float]]:
    """COCO-WholeBody AP/AR per part.

    Args:
        gt: annotation dict or path (COCO-WholeBody format).
        results: results list or path (xtcocotools whole-body results format).
        parts: any of ``body, foot, face, left_hand, right_hand, wholebody``.
        use_area: normalise OKS by the ground-truth ``area`` (else 0.53 * box area).

    Returns:
        part -> {``AP``, ``AP .5``, ``AP .75``, ``AP (M)``, ``AP (L)``, ``AR`` ...}; -1 where a
        metric has no ground truth.
    """
    gt_arrays = gt if isinstance(gt, GroundTruthArrays) else ground_truth_arrays(gt)
    dt_arrays = (
        results if isinstance(results, DetectionArrays) else detection_arrays(results, gt_arrays)
    )
    return {part: evaluate_part(gt_arrays, dt_arrays, part, use_area) for part in parts}


def format_table(metrics: dict[str, dict[str, float]]) -> str:
    """A fixed-width per-part table of the ten AP/AR numbers."""
    head = f"{'part':<11}" + "".join(f"{n:>8}" for n in STAT_NAMES)
    lines = [head, "-" * len(head)]
    for part, stats in metrics.items():
        lines.append(f"{part:<11}" + "".join(f"{stats[n]:>8.3f}" for n in STAT_NAMES))
    return "\n".join(lines)

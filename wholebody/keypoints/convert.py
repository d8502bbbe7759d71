"""Conversions between keypoint sets by name, with synthesized points defined once.

A target keypoint is copied when the source set has the same name; otherwise it is
synthesized from named source points by a rule in `SYNTHESIZED`; otherwise it is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wholebody.keypoints.base import KeypointSet
from wholebody.keypoints.validate import check_keypoints, check_scores


@dataclass(frozen=True)
class Synthesized:
    """A keypoint made as the mean of named sources.

    Attributes:
        sources: names whose coordinates are averaged.
        score: how the confidence is formed: ``"min"`` (as reliable as the weakest source),
            ``"mean"``, or ``"all_above"`` (1.0 if every source score > ``threshold``, else 0.0).
        threshold: used by ``"all_above"``.
    """

    sources: tuple[str, ...]
    score: str = "min"
    threshold: float = 0.3

    def scores(self, source_scores: np.ndarray) -> np.ndarray:
        """``(..., S)`` source scores -> ``(...)`` synthesized score."""
        if self.score == "min":
            return source_scores.min(axis=-1)
        if self.score == "mean":
            return source_scores.mean(axis=-1)
        if self.score == "all_above":
            return np.all(source_scores > self.threshold, axis=-1).astype(source_scores.dtype)
        raise ValueError(f"unknown score rule {self.score!r}, expected min, mean or all_above")


# H36M points follow MotionBERT's COCO->H36M conversion: pelvis = mid-hips, thorax =
# mid-shoulders, spine = mid(pelvis, thorax), head = mid-eyes (H36M's head is the head top;
# mid-eyes is the conventional stand-in when no head-top point exists).
# OpenPose neck: DWPose / ControlNet's rule, binary confidence iff both shoulders > 0.3.
SYNTHESIZED: dict[str, Synthesized] = {
    "pelvis": Synthesized(("left_hip", "right_hip")),
    "mid_hip": Synthesized(("left_hip", "right_hip")),
    "thorax": Synthesized(("left_shoulder", "right_shoulder")),
    "spine": Synthesized(("pelvis", "thorax")),
    "head": Synthesized(("left_eye", "right_eye")),
    "neck": Synthesized(("left_shoulder", "right_shoulder"), score="all_above", threshold=0.3),
}


def conversion_plan(
    src: KeypointSet, dst: KeypointSet, rules: dict[str, Synthesized] | None = None
) -> list[tuple[str, object]]:
    """How each target point is made.

    Returns:
        one entry per target name: ``("copy", i)``, ``("synth", rule)`` or ``("missing", None)``.
    """
    rules = SYNTHESIZED if rules is None else rules
    plan = []
    for name in dst.names:
        if name in src:
            plan.append(("copy", src.index(name)))
        elif name in rules and _can_make(name, src, rules, set()):
            plan.append(("synth", rules[name]))
        else:
            plan.append(("missing", None))
    return plan


def _can_make(name: str, src: KeypointSet, rules, seen: set) -> bool:
    if name in src:
        return True
    if name not in rules or name in seen:
        return False
    return all(_can_make(s, src, rules, seen | {name}) for s in rules[name].sources)


def _make(name, keypoints, scores, src, rules):
    """Coordinates ``(..., C)`` and score ``(...)`` of one named point, recursively."""
    if name in src:
        i = src.index(name)
        return keypoints[..., i, :], scores[..., i]
    rule = rules[name]
    parts = [_make(s, keypoints, scores, src, rules) for s in rule.sources]
    xyz = np.mean(np.stack([p[0] for p in parts], axis=-2), axis=-2)
    return xyz, rule.scores(np.stack([p[1] for p in parts], axis=-1))


def convert_keypoints(
    keypoints: np.ndarray,
    scores: np.ndarray | None,
    src: KeypointSet,
    dst: KeypointSet,
    missing: str = "zero",
    rules: dict[str, Synthesized] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Convert ``(..., J_src, C)`` keypoints (+ ``(..., J_src)`` scores) to another set by name.

    Args:
        keypoints: 2D pixels or 3D metres, last axis C in {2, 3}.
        scores: confidences in [0, 1], or ``None`` for all ones.
        src, dst: keypoint sets.
        missing: target points neither copied nor synthesizable get ``"zero"`` coordinates,
            ``"nan"`` coordinates (score 0 either way), or ``"raise"`` a ValueError.
        rules: synthesized-point rules, default `SYNTHESIZED`.

    Returns:
        ``(..., J_dst, C)`` keypoints and ``(..., J_dst)`` scores.
    """
    rules = SYNTHESIZED if rules is None else rules
    keypoints = check_keypoints(keypoints, src, name="keypoints")
    scores = (
        np.ones(keypoints.shape[:-1], keypoints.dtype)
        if scores is None
        else check_scores(scores, keypoints, name="scores")
    )
    if missing not in ("zero", "nan", "raise"):
        raise ValueError(f"missing must be 'zero', 'nan' or 'raise', got {missing!r}")
    plan = conversion_plan(src, dst, rules)
    absent = [dst.names[i] for i, (kind, _) in enumerate(plan) if kind == "missing"]
    if absent and missing == "raise":
        raise ValueError(f"{src.name} -> {dst.name}: cannot make {absent}")
    batch = keypoints.shape[:-2]
    out = np.zeros(batch + (len(dst), keypoints.shape[-1]), dtype=keypoints.dtype)
    out_scores = np.zeros(batch + (len(dst),), dtype=scores.dtype)
    for j, name in enumerate(dst.names):
        if plan[j][0] == "missing":
            if missing == "nan":
                out[..., j, :] = np.nan
            continue
        out[..., j, :], out_scores[..., j] = _make(name, keypoints, scores, src, rules)
    return out, out_scores

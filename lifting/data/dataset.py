"""Clip arrays for training and evaluation: normalised 2D inputs, root-relative 3D targets.

Inputs ``(K, T, J, 3)`` = normalised (x, y) and score (see `lifting.normalize`); targets
``(K, T, J, 3)`` = camera-frame joints in metres minus the root joint of each frame.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from lifting.data.augment import random_flip
from lifting.data.clips import clip_indices
from lifting.data.sequence import PoseSequence
from lifting.normalize import normalize_input
from wholebody.keypoints import H36M, KeypointSet


def root_indices(kset: KeypointSet) -> np.ndarray:
    """Joints whose mean is the root: the set's root, else the two hips (COCO sets)."""
    if kset.root is not None:
        return kset.indices([kset.root])
    if "left_hip" in kset and "right_hip" in kset:
        return kset.indices(["left_hip", "right_hip"])
    raise ValueError(f"{kset.name}: no root joint and no left_hip/right_hip to define one")


def root_relative(x, kset: KeypointSet) -> np.ndarray:
    """``(..., J, 3)`` minus the root point of each frame (see `root_indices`)."""
    x = np.asarray(x)
    return x - x[..., root_indices(kset), :].mean(axis=-2, keepdims=True)


def sequence_input(seq: PoseSequence, input_norm: str = "screen") -> np.ndarray:
    """``(T, J, 3)`` normalised model input of a whole sequence (bbox = over the sequence)."""
    return normalize_input(seq.keypoints2d, seq.scores, seq.width, seq.height, input_norm)


def sequence_target(seq: PoseSequence, kset: KeypointSet = H36M) -> np.ndarray:
    """``(T, J, 3)`` root-relative camera-frame joints in metres (root by name, see
    `root_indices`)."""
    if seq.num_joints != len(kset):
        raise ValueError(f"{seq.name}: expected J={len(kset)} ({kset.name}), got {seq.num_joints}")
    return root_relative(seq.keypoints3d, kset).astype(np.float32)


@dataclass(frozen=True, eq=False)
class ClipData:
    """Stacked clips: inputs/targets ``(K, T, J, 3)``, ``source`` ``(K,)`` sequence index."""

    inputs: np.ndarray
    targets: np.ndarray
    source: np.ndarray
    kset: KeypointSet = H36M

    def __len__(self) -> int:
        return len(self.inputs)

    def batches(
        self,
        batch_size: int,
        rng: np.random.Generator | None = None,
        flip_p: float = 0.0,
        drop_last: bool = False,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(inputs, targets)`` batches; shuffled and flip-augmented when ``rng`` is set."""
        order = np.arange(len(self)) if rng is None else rng.permutation(len(self))
        stop = len(order) - (len(order) % batch_size if drop_last else 0)
        for i in range(0, stop, batch_size):
            idx = order[i : i + batch_size]
            x, y = self.inputs[idx], self.targets[idx]
            if rng is not None and flip_p > 0:
                x, y = random_flip(x, y, rng, flip_p, self.kset)
            yield x, y


def make_clips(
    sequences: Sequence[PoseSequence],
    n_frames: int,
    stride: int | None = None,
    tail: str = "resample",
    input_norm: str = "screen",
    kset: KeypointSet = H36M,
) -> ClipData:
    """Slice every sequence into clips (see `clip_indices`) and stack them."""
    if not sequences:
        raise ValueError("make_clips: expected at least one sequence, got none")
    xs, ys, src = [], [], []
    for i, seq in enumerate(sequences):
        idx = clip_indices(len(seq), n_frames, stride, tail)
        if len(idx) == 0:
            continue
        xs.append(sequence_input(seq, input_norm)[idx])
        ys.append(sequence_target(seq, kset)[idx])
        src.append(np.full(len(idx), i, dtype=np.int64))
    if not xs:
        raise ValueError(f"make_clips: no sequence gave a clip of {n_frames} frames")
    return ClipData(np.concatenate(xs), np.concatenate(ys), np.concatenate(src), kset)

"""Human3.6M in VideoPose3D's npz layout: 3D mocap, 2D keypoints, cameras, splits (numpy).

Files (from VideoPose3D's ``DATASETS.md``; the data itself is licensed by the Human3.6M
authors and must be obtained from http://vision.imar.ro/human3.6m):

- ``data_3d_h36m.npz``: key ``positions_3d`` -> ``{subject: {action: (N, 32, 3)}}``, metres,
  world frame, 50 fps.
- ``data_2d_h36m_gt.npz`` / ``data_2d_h36m_cpn_ft_h36m_dbb.npz``: key ``positions_2d`` ->
  ``{subject: {action: [4 x (N, 17, 2)]}}`` pixels in camera order, and ``metadata``.
"""

from __future__ import annotations

import logging
import pickle
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from lifting.data.h36m_cameras import CAMERA_IDS, camera_resolution, h36m_camera, project_h36m
from lifting.data.sequence import PoseSequence
from wholebody.keypoints import H36M

logger = logging.getLogger(__name__)

TRAIN_SUBJECTS = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS = ("S9", "S11")
ACTIONS = (
    "Directions", "Discussion", "Eating", "Greeting", "Phoning", "Photo", "Posing", "Purchases",
    "Sitting", "SittingDown", "Smoking", "Waiting", "WalkDog", "Walking", "WalkTogether",
)  # fmt: skip
# Corrupted video, removed from the VideoPose3D data; skipped if a file still holds it.
VIDEOPOSE3D_EXCLUDED = (("S11", "Directions"),)

# H36M-17 joint name -> index in the 32-joint mocap skeleton.
MOCAP32_INDEX = {
    "pelvis": 0, "right_hip": 1, "right_knee": 2, "right_ankle": 3, "left_hip": 6,
    "left_knee": 7, "left_ankle": 8, "spine": 12, "thorax": 13, "nose": 14, "head": 15,
    "left_shoulder": 17, "left_elbow": 18, "left_wrist": 19, "right_shoulder": 25,
    "right_elbow": 26, "right_wrist": 27,
}  # fmt: skip
H36M_FROM_32 = np.array([MOCAP32_INDEX[n] for n in H36M.names], dtype=np.int64)

WHERE_TO_GET = (
    "get it from the Human3.6M website (http://vision.imar.ro/human3.6m) and convert it with "
    "VideoPose3D's data/prepare_data_h36m.py (see its DATASETS.md)"
)


def action_group(action: str) -> str:
    """Action label used for averaging: ``"Directions 1" -> "Directions"``."""
    return action.split(" ")[0]


def mocap32_to_h36m17(positions) -> np.ndarray:
    """``(..., 32, 3)`` mocap joints -> ``(..., 17, 3)`` H36M-17 (by joint name)."""
    arr = np.asarray(positions)
    if arr.ndim < 2 or arr.shape[-2] != 32:
        raise ValueError(f"positions: expected shape (..., 32, C), got {arr.shape}")
    return arr[..., H36M_FROM_32, :]


def _load_npz_dict(path: str | Path, key: str) -> tuple[dict, np.lib.npyio.NpzFile]:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"missing file {path}: {WHERE_TO_GET}")
    try:
        npz = np.load(path, allow_pickle=True)
    except (OSError, ValueError, zipfile.BadZipFile, pickle.UnpicklingError) as err:
        raise ValueError(f"{path}: not a readable npz file ({err})") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: expected an npz archive, got a single {type(npz).__name__}")
    if key not in npz.files:
        raise ValueError(f"{path}: expected key {key!r}, got keys {npz.files}")
    try:
        value = npz[key].item()
    except (ValueError, zipfile.BadZipFile, EOFError, OSError, pickle.UnpicklingError) as err:
        raise ValueError(f"{path}: {key!r} is not a pickled dict ({err})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path}: {key!r} expected a dict, got {type(value).__name__}")
    return value, npz


def load_h36m_3d(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """Read ``data_3d_h36m.npz`` -> ``{subject: {action: (N, 32, 3) float32 world metres}}``."""
    data, _ = _load_npz_dict(path, "positions_3d")
    out: dict[str, dict[str, np.ndarray]] = {}
    for subject, actions in data.items():
        if not isinstance(actions, dict):
            raise ValueError(f"{path}: positions_3d[{subject!r}] expected a dict of actions")
        out[subject] = {}
        for action, pos in actions.items():
            pos = np.asarray(pos, dtype=np.float32)
            if pos.ndim != 3 or pos.shape[1:] != (32, 3):
                raise ValueError(
                    f"{path}: {subject}/{action} expected shape (N, 32, 3), got {pos.shape}"
                )
            if not np.all(np.isfinite(pos)):
                raise ValueError(f"{path}: {subject}/{action} expected finite values, got NaN/inf")
            out[subject][action] = pos
    return out


def load_h36m_2d(path: str | Path) -> tuple[dict[str, dict[str, list[np.ndarray]]], dict]:
    """Read a VideoPose3D 2D npz -> (``{subject: {action: [4 x (N, 17, 2)]}}`` pixels, metadata)."""
    data, npz = _load_npz_dict(path, "positions_2d")
    meta = npz["metadata"].item() if "metadata" in npz.files else {}
    if meta and meta.get("num_joints", 17) != 17:
        raise ValueError(f"{path}: expected 17 joints (h36m layout), got metadata {meta}")
    out: dict[str, dict[str, list[np.ndarray]]] = {}
    for subject, actions in data.items():
        if not isinstance(actions, dict):
            raise ValueError(f"{path}: positions_2d[{subject!r}] expected a dict of actions")
        out[subject] = {}
        for action, views in actions.items():
            if len(views) != len(CAMERA_IDS):
                raise ValueError(f"{path}: {subject}/{action} expected 4 cameras, got {len(views)}")
            arrs = []
            for cam, kp in enumerate(views):
                kp = np.asarray(kp, dtype=np.float32)
                if kp.ndim != 3 or kp.shape[1] != 17 or kp.shape[2] < 2:
                    raise ValueError(
                        f"{path}: {subject}/{action}/{cam} expected (N, 17, 2), got {kp.shape}"
                    )
                arrs.append(kp[..., :2])
            out[subject][action] = arrs
    return out, meta


def world_to_camera_h36m(positions_world, subject: str, camera: int) -> np.ndarray:
    """``(..., J, 3)`` world metres -> camera frame of one H36M camera."""
    return h36m_camera(subject, camera).world_to_camera(positions_world).astype(np.float32)


def h36m_sequences(
    positions_3d: dict[str, dict[str, np.ndarray]],
    positions_2d: dict[str, dict[str, list[np.ndarray]]] | None = None,
    subjects: Iterable[str] = TEST_SUBJECTS,
    cameras: Iterable[int] = (0, 1, 2, 3),
) -> list[PoseSequence]:
    """One `PoseSequence` per subject, action and camera, H36M-17, camera frame.

    Without ``positions_2d`` the 2D is the projection of the 3D with VideoPose3D's lens model
    (`project_h36m`), i.e. the ground-truth 2D of ``data_2d_h36m_gt.npz``. 2D tracks longer
    than the mocap are truncated to the mocap length. Sequences named in
    ``VIDEOPOSE3D_EXCLUDED`` are skipped.
    """
    seqs = []
    for subject, action, world in _kept_sequences(positions_3d, subjects):
        for cam in cameras:
            camera = h36m_camera(subject, cam)
            kp3 = camera.world_to_camera(world).astype(np.float32)
            if positions_2d is None:
                kp2 = project_h36m(kp3, subject, cam)
            else:
                try:
                    kp2 = positions_2d[subject][action][cam]
                except KeyError:
                    raise ValueError(f"2D data has no {subject}/{action}") from None
                if len(kp2) < len(kp3):
                    raise ValueError(
                        f"{subject}/{action}/{cam}: 2D has {len(kp2)} frames, 3D has {len(kp3)}"
                    )
                kp2 = kp2[: len(kp3)]
            w, h = camera_resolution(cam)
            seqs.append(
                PoseSequence(
                    name=f"{subject}/{action}/{cam}",
                    keypoints2d=kp2,
                    scores=np.ones(kp2.shape[:2], np.float32),
                    keypoints3d=kp3,
                    width=w,
                    height=h,
                    action=action_group(action),
                    camera=camera,
                )
            )
    logger.info("built %d H36M sequences for %s", len(seqs), list(subjects))
    return seqs


def ground_truth_camera_frame(
    positions_3d: dict[str, dict[str, np.ndarray]], subjects: Iterable[str] = TEST_SUBJECTS
) -> dict[str, np.ndarray]:
    """``{"S9/Directions 1/0": (N, 17, 3)}`` camera-frame ground truth for the eval protocol."""
    out = {}
    for subject, action, world in _kept_sequences(positions_3d, subjects):
        for cam in range(len(CAMERA_IDS)):
            out[f"{subject}/{action}/{cam}"] = world_to_camera_h36m(world, subject, cam)
    return out


def _kept_sequences(positions_3d: dict, subjects: Iterable[str]):
    """Yield ``(subject, action, world (N, 17, 3))`` for every sequence not excluded."""
    for subject in subjects:
        if subject not in positions_3d:
            raise ValueError(f"subject {subject!r} not in the 3D data, got {sorted(positions_3d)}")
        for action, pos32 in positions_3d[subject].items():
            if (subject, action) not in VIDEOPOSE3D_EXCLUDED:
                yield subject, action, mocap32_to_h36m17(pos32)

"""`PoseSequence`: one video's 2D keypoints, scores and 3D camera-frame joints (numpy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wholebody.camera import Camera


@dataclass(frozen=True, eq=False)
class PoseSequence:
    """One subject seen by one camera over T frames.

    Attributes:
        name: unique key, e.g. ``"S9/Directions 1/0"``.
        keypoints2d: ``(T, J, 2)`` pixels.
        scores: ``(T, J)`` 2D confidences in [0, 1] (ones for ground-truth 2D).
        keypoints3d: ``(T, J, 3)`` metres, camera frame (absolute, not root-relative).
        width, height: image size in pixels.
        action: action label used for per-action averaging (e.g. ``"Directions"``).
        camera: the camera, when known.
    """

    name: str
    keypoints2d: np.ndarray
    scores: np.ndarray
    keypoints3d: np.ndarray
    width: int
    height: int
    action: str = ""
    camera: Camera | None = None

    def __post_init__(self) -> None:
        kp2 = np.asarray(self.keypoints2d, dtype=np.float32)
        kp3 = np.asarray(self.keypoints3d, dtype=np.float32)
        sc = np.asarray(self.scores, dtype=np.float32)
        if kp2.ndim != 3 or kp2.shape[-1] != 2:
            raise ValueError(f"{self.name}: keypoints2d expected (T, J, 2), got {kp2.shape}")
        if kp3.shape != kp2.shape[:2] + (3,):
            raise ValueError(
                f"{self.name}: keypoints3d expected {kp2.shape[:2] + (3,)}, got {kp3.shape}"
            )
        if sc.shape != kp2.shape[:2]:
            raise ValueError(f"{self.name}: scores expected {kp2.shape[:2]}, got {sc.shape}")
        if not np.all(np.isfinite(kp3)):
            raise ValueError(f"{self.name}: keypoints3d expected finite values, got NaN/inf")
        object.__setattr__(self, "keypoints2d", kp2)
        object.__setattr__(self, "keypoints3d", kp3)
        object.__setattr__(self, "scores", sc)

    def __len__(self) -> int:
        return self.keypoints2d.shape[0]

    @property
    def num_joints(self) -> int:
        return self.keypoints2d.shape[1]

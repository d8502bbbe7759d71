"""Real CMU mocap (BVH) as H36M-17 world joint sequences, for lifting experiments and tests.

The CMU files 01_01 and 01_03 ship in Debian's ``assimp-testmodels`` (``apt-get install
assimp-testmodels``; BSD-3 package, CMU data free for research and commercial use, credit
mocap.cs.cmu.edu). They are read with ``body_models.export.read_bvh`` and forward kinematics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from body_models.export import read_bvh
from wholebody.keypoints import H36M

BVH_DIR = Path("/usr/share/assimp/models/BVH")
DEFAULT_BVH = (BVH_DIR / "01_01.bvh", BVH_DIR / "01_03.bvh")
# CMU's length unit: (1 / 0.45) inch = 0.056444 m (CMU ASF convention, kept by the cgspeed BVH).
CMU_UNIT_M = 0.056444

# H36M-17 joint -> CMU BVH joint (nearest anatomical point; CMU has no head-top joint).
CMU_TO_H36M = {
    "pelvis": "Hips", "right_hip": "RightUpLeg", "right_knee": "RightLeg",
    "right_ankle": "RightFoot", "left_hip": "LeftUpLeg", "left_knee": "LeftLeg",
    "left_ankle": "LeftFoot", "spine": "Spine", "thorax": "Neck", "nose": "Neck1",
    "head": "Head", "left_shoulder": "LeftArm", "left_elbow": "LeftForeArm",
    "left_wrist": "LeftHand", "right_shoulder": "RightArm", "right_elbow": "RightForeArm",
    "right_wrist": "RightHand",
}  # fmt: skip


def load_cmu_h36m(path: str | Path, fps: float = 30.0) -> np.ndarray:
    """One BVH -> ``(T, 17, 3)`` H36M-17 world joints in metres (y up), resampled to ``fps``.

    Raises:
        ValueError: missing file (install ``assimp-testmodels``) or a skeleton without the
            CMU joint names.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(
            f"missing BVH file {path}: install the Debian package assimp-testmodels "
            "(apt-get install assimp-testmodels) or pass another CMU BVH file"
        )
    motion = read_bvh(path)
    step = max(1, int(round(motion.fps / fps)))
    world, _ = motion.forward_kinematics()
    idx = [motion.index(CMU_TO_H36M[name]) for name in H36M.names]
    return (world[::step, idx] * CMU_UNIT_M).astype(np.float64)


def split_frames(world: np.ndarray, holdout: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Split a sequence in time: the first ``1 - holdout`` for training, the rest held out."""
    if not 0 < holdout < 1:
        raise ValueError(f"holdout: expected a fraction in (0, 1), got {holdout}")
    cut = int(round(len(world) * (1 - holdout)))
    return world[:cut], world[cut:]

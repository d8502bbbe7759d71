"""Which pose parameters the priors act on (SMPL-X joint indices, by name)."""

from __future__ import annotations

import numpy as np

from wholebody.keypoints import SMPLX

# SMPLify-style bend directions in the SMPL-X model frame (Y up, +Z forward): knees flex about
# +x, the left elbow about -y, the right elbow about +y. (joint, axis, sign): sign * value >= 0.
HINGES = (
    ("left_knee", 0, 1.0), ("right_knee", 0, 1.0),
    ("left_elbow", 1, -1.0), ("right_elbow", 1, 1.0),
)  # fmt: skip
BODY_JOINTS = np.arange(1, 22)  # pelvis (0) is the global orientation
_FINGERS = ("index", "middle", "pinky", "ring", "thumb")
HAND_JOINTS = {
    side: np.array([i for i, n in enumerate(SMPLX.names)
                    if n.startswith(f"{side}_") and any(f in n for f in _FINGERS)])
    for side in ("left", "right")
}  # fmt: skip
JAW = SMPLX.index("jaw")

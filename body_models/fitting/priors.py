"""Which pose parameters the priors act on (SMPL-X joint indices, by name), and the hand PCA
prior's quadratic form."""

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
# pose columns (3 per joint, in the 55·3 full pose) of each hand's finger joints
HAND_COLUMNS = {side: (3 * j[:, None] + np.arange(3)).ravel() for side, j in HAND_JOINTS.items()}
JAW = SMPLX.index("jaw")


def hand_pca_quadratic(
    components: np.ndarray, num_inside: int, weight_inside: float, weight_outside: float
) -> np.ndarray:
    """``Q (45, 45)`` of the hand PCA prior ``(θ - μ)ᵀ Q (θ - μ)`` on one hand's axis-angle pose.

    The model's PCA rows ``components (45, 45)`` (MANO/SMPL-X ``hands_components``; pose =
    coefficients @ components + mean) give coefficients ``c = (θ - μ) C⁻¹``; the prior is
    ``weight_inside × Σ_{i<n} c_i² + weight_outside × Σ_{i≥n} c_i²`` (SMPLify-X fits the first
    12 coefficients with an L2 prior; here the rest are penalised instead of removed).
    """
    C = np.asarray(components, np.float64)
    if C.shape != (45, 45) or not np.all(np.isfinite(C)):
        raise ValueError(f"hand PCA components: expected finite (45, 45), got {C.shape}")
    if not 0 <= num_inside <= 45:
        raise ValueError(f"hand PCA components used: expected 0..45, got {num_inside}")
    P = np.linalg.pinv(C)  # (45 pose, 45 coefficients): c = d @ P
    omega = np.where(np.arange(45) < num_inside, weight_inside, weight_outside)
    return (P * omega) @ P.T

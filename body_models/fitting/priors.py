"""Pose, shape and hand priors (JAX, pure functions of the fitting parameters)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from wholebody.keypoints import SMPLX

# SMPLify-style bend directions in the SMPL-X model frame (Y up, +Z forward): knees flex about
# +x, the left elbow about -y, the right elbow about +y. (joint, axis, sign): sign * value >= 0.
HINGES = (
    ("left_knee", 0, 1.0), ("right_knee", 0, 1.0),
    ("left_elbow", 1, -1.0), ("right_elbow", 1, 1.0),
)  # fmt: skip
BODY_JOINTS = np.arange(1, 22)  # pelvis is the global orientation
HAND_JOINTS = {
    "left": np.array([SMPLX.index(n) for n in SMPLX.names if n.startswith("left_") and
                      any(f in n for f in ("index", "middle", "pinky", "ring", "thumb"))]),
    "right": np.array([SMPLX.index(n) for n in SMPLX.names if n.startswith("right_") and
                       any(f in n for f in ("index", "middle", "pinky", "ring", "thumb"))]),
}  # fmt: skip
JAW = SMPLX.index("jaw")


def hinge_prior(pose: jax.Array) -> jax.Array:
    """``(T, 55, 3)`` -> ``(T,)`` squared violation of the knee/elbow bend directions."""
    idx = np.array([SMPLX.index(j) for j, _, _ in HINGES])
    axis = np.array([a for _, a, _ in HINGES])
    sign = np.array([s for _, _, s in HINGES], dtype=np.float32)
    vals = pose[:, idx, axis] * sign
    return jnp.sum(jnp.square(jnp.minimum(vals, 0.0)), axis=-1)


def limit_prior(pose: jax.Array, limit: float) -> jax.Array:
    """``(T, 55, 3)`` -> ``(T,)`` squared excess of body axis-angle components over ``limit``."""
    body = pose[:, BODY_JOINTS]
    return jnp.sum(jnp.square(jnp.maximum(jnp.abs(body) - limit, 0.0)), axis=(-1, -2))


def pose_l2(pose: jax.Array, joints: np.ndarray) -> jax.Array:
    """``(T,)`` squared norm of the rotations of ``joints``."""
    return jnp.sum(jnp.square(pose[:, joints]), axis=(-1, -2))


def hand_prior(pose: jax.Array, components: tuple[jax.Array, jax.Array] | None = None) -> jax.Array:
    """``(T,)`` hand prior: L2 of both hands' axis-angle, or of their PCA coefficients when
    ``components`` (left, right) ``(45, 45)`` bases with rows as components are given."""
    total = 0.0
    for k, side in enumerate(("left", "right")):
        h = pose[:, HAND_JOINTS[side]].reshape(pose.shape[0], 45)
        if components is not None:
            h = h @ components[k].T  # coefficients in the PCA basis
        total = total + jnp.sum(jnp.square(h), axis=-1)
    return total

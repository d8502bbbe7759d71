"""Fitting weights as a pytree and the optional 2D reprojection term (JAX, pure functions).

The reprojection residual is the pinhole image error divided by the focal length
(u = fx x/z + cx, v = fy y/z + cy), with a Geman-McClure kernel of scale ``reprojection_sigma``
pixels; its Gauss-Newton rows are ``d(uv)/d(cam) · R · J`` for keypoint Jacobians ``J``.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from body_models.fitting.config import FitConfig
from body_models.fitting.losses import geman_mcclure
from body_models.fitting.objective import StepWeights
from body_models.fitting.priors import hand_pca_quadratic
from wholebody.keypoints import COCO_WHOLEBODY


@jax.tree_util.register_pytree_node_class
@dataclass(frozen=True)
class Weights:
    step: StepWeights
    shape: jax.Array
    reproj_weight: jax.Array
    reproj_sigma: jax.Array

    def tree_flatten(self):
        return (self.step, self.shape, self.reproj_weight, self.reproj_sigma), None

    @classmethod
    def tree_unflatten(cls, _, children):
        return cls(*children)


def reprojection_terms(p, data):
    cam = p @ data["cam_R"].T + data["cam_t"]
    K = data["cam_K"]
    z = jnp.maximum(cam[..., 2], 1e-2)
    uv = jnp.stack([K[0, 0] * cam[..., 0] / z + K[0, 2], K[1, 1] * cam[..., 1] / z + K[1, 2]], -1)
    return cam, z, (uv - data["target2d"]) / K[0, 0]


def reprojection_cost(p, data, w):
    _, _, r = reprojection_terms(p, data)
    sq = jnp.sum(r * r, -1)
    return jnp.sum(data["conf2d"] * geman_mcclure(sq, w.reproj_sigma / data["cam_K"][0, 0]), -1)


def reprojection_normal(p, J, data, w):
    """Gauss-Newton gradient/Hessian halves of the reprojection term."""
    cam, z, r = reprojection_terms(p, data)
    K = data["cam_K"]
    f = K[0, 0]
    zero = jnp.zeros_like(z)
    # d(uv)/d(cam) / f: [[fx/z, 0, -fx x/z²], [0, fy/z, -fy y/z²]] / f
    d = jnp.stack([
        jnp.stack([K[0, 0] / z, zero, -K[0, 0] * cam[..., 0] / z**2], -1),
        jnp.stack([zero, K[1, 1] / z, -K[1, 1] * cam[..., 1] / z**2], -1),
    ], -2) / f  # fmt: skip
    J2 = jnp.einsum("bkuc,cd,bkdn->bkun", d, data["cam_R"], J)
    s = w.reproj_sigma / f
    irls = data["conf2d"] * s**4 / jnp.square(s * s + jnp.sum(r * r, -1))
    return jnp.einsum("bkun,bku->bn", J2, irls[..., None] * r), jnp.einsum(
        "bkun,bk,bkum->bnm", J2, irls, J2
    )


def make_weights(cfg: FitConfig, model=None) -> Weights:
    """Weights of ``cfg``; the hand PCA prior uses ``model``'s hand PCA basis and mean (an
    identity basis and zero mean without a model)."""
    f = np.float32
    comps = [np.eye(45)] * 2 if model is None else [model.hands_components_l,
                                                     model.hands_components_r]  # fmt: skip
    means = [np.zeros(45)] * 2 if model is None else [model.hands_mean_l, model.hands_mean_r]
    hand_q = np.stack([hand_pca_quadratic(c, cfg.hand_pca_components, cfg.hand_pca_weight,
                                          cfg.hand_pca_outside_weight) for c in comps])  # fmt: skip
    step = StepWeights(
        unit=f(cfg.unit), sigma=f(cfg.robust_sigma),
        pose=f(cfg.pose_weight), hinge=f(cfg.hinge_weight), limit=f(cfg.limit_weight),
        angle_limit=f(cfg.angle_limit), hand=f(cfg.hand_weight), jaw=f(cfg.jaw_weight),
        expr=f(cfg.expression_weight), hand_q=hand_q.astype(f),
        hand_mu=np.stack(means).astype(f),
    )  # fmt: skip
    return Weights(step, f(cfg.shape_weight), f(cfg.reprojection_weight),
                    f(cfg.reprojection_sigma))  # fmt: skip


def camera_data(camera, keypoints2d, scores2d, T: int) -> dict:
    if camera is None:
        return {}
    if keypoints2d is None:
        raise ValueError("fit_sequence: a camera needs keypoints2d (T, 133, 2)")
    k2 = np.asarray(keypoints2d, dtype=np.float64)
    if k2.shape != (T, COCO_WHOLEBODY.num_keypoints, 2):
        raise ValueError(f"keypoints2d: expected shape ({T}, 133, 2), got {k2.shape}")
    s2 = np.ones(k2.shape[:2]) if scores2d is None else np.asarray(scores2d, dtype=np.float64)
    if s2.shape != k2.shape[:2]:
        raise ValueError(f"scores2d: expected shape {k2.shape[:2]}, got {s2.shape}")
    bad = ~np.all(np.isfinite(k2), -1) | ~np.isfinite(s2)
    return {
        "target2d": np.where(bad[..., None], 0.0, k2).astype(np.float32),
        "conf2d": np.where(bad, 0.0, np.clip(s2, 0, 1)).astype(np.float32),
        "cam_K": camera.K.astype(np.float32),
        "cam_R": camera.R.astype(np.float32),
        "cam_t": camera.t.astype(np.float32),
    }

"""The per-frame fitting objective in JAX: weights, separable priors and the frame cost.

Residuals are in units of ``StepWeights.unit`` metres; every term is ``weight × residual²``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from body_models.fitting import priors
from body_models.fitting.losses import geman_mcclure

POSE_DIM = 165
TRANSL = slice(165, 168)


class StepWeights(NamedTuple):
    unit: jax.Array
    sigma: jax.Array
    pose: jax.Array
    hinge: jax.Array
    limit: jax.Array
    angle_limit: jax.Array
    hand: jax.Array
    jaw: jax.Array
    expr: jax.Array
    hand_q: jax.Array  # (2, 45, 45) hand PCA prior per side (left, right)
    hand_mu: jax.Array  # (2, 45) PCA mean hand pose per side


def prior_terms(x: jax.Array, w: StepWeights) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Priors: cost ``(B,)``, gradient ``(B, P)`` and a diagonal Hessian ``(B, P)``.

    Each prior is ``weight × residual²`` (gradient/2 and Gauss-Newton Hessian/2 returned, matching
    the ``Σ r²`` convention of the data term). The hand PCA prior couples a hand's columns: its
    diagonal is the Gershgorin bound ``Σ_j |Q_ij|`` (≥ Q's largest eigenvalue), a majoriser, so
    the fingers stay independent blocks and accepted steps still lower the exact cost.
    """
    P = x.shape[1]
    kinds = np.zeros(P, np.int32)
    for j in priors.BODY_JOINTS:
        kinds[3 * j : 3 * j + 3] = 1
    for cols in priors.HAND_COLUMNS.values():
        kinds[cols] = 2
    kinds[3 * priors.JAW : 3 * priors.JAW + 3] = 3
    kinds[TRANSL.stop :] = 4
    l2 = jnp.stack([jnp.zeros(()), w.pose, w.hand, w.jaw, w.expr])[kinds]  # (P,)
    cost = jnp.sum(l2 * x * x, -1)
    grad = l2 * x
    hess = jnp.broadcast_to(l2, x.shape)
    # hinge: sign * θ >= 0 for knees/elbows
    hcols = np.array([3 * priors.SMPLX.index(j) + a for j, a, _ in priors.HINGES])
    hsign = np.array([s for _, _, s in priors.HINGES], np.float32)
    hv = x[:, hcols] * hsign
    active = hv < 0
    cost += w.hinge * jnp.sum(jnp.where(active, hv * hv, 0.0), -1)
    grad = grad.at[:, hcols].add(jnp.where(active, w.hinge * x[:, hcols], 0.0))
    hess = hess.at[:, hcols].add(jnp.where(active, w.hinge, 0.0))
    # hand PCA prior (full quadratic per hand)
    for side, name in enumerate(("left", "right")):
        hc = priors.HAND_COLUMNS[name]
        d = x[:, hc] - w.hand_mu[side]
        qd = d @ w.hand_q[side]  # Q symmetric
        cost += jnp.sum(qd * d, -1)
        grad = grad.at[:, hc].add(qd)
        hess = hess.at[:, hc].add(jnp.sum(jnp.abs(w.hand_q[side]), -1))
    # soft angle limits on body joints
    body = np.nonzero(kinds == 1)[0]
    ex = jnp.abs(x[:, body]) - w.angle_limit
    act = ex > 0
    cost += w.limit * jnp.sum(jnp.where(act, ex * ex, 0.0), -1)
    grad = grad.at[:, body].add(jnp.where(act, w.limit * ex * jnp.sign(x[:, body]), 0.0))
    hess = hess.at[:, body].add(jnp.where(act, w.limit, 0.0))
    return cost, grad, hess


def frame_cost(p, x, target, conf_w, pull, pull_weight, w: StepWeights) -> jax.Array:
    """``(B,)`` per-frame cost: robust data + temporal smoothness as a pull towards ``pull
    (B, K, 3)`` with weights ``pull_weight (B, K)`` (``smoothness.smoothness_pull``) + priors."""
    inv_u2 = 1.0 / (w.unit * w.unit)
    sq = jnp.sum(jnp.square(p - target), -1)
    data = jnp.sum(conf_w * geman_mcclure(sq, w.sigma), -1) * inv_u2
    smooth = jnp.sum(pull_weight * jnp.sum(jnp.square(p - pull), -1), -1) * inv_u2
    return data + smooth + prior_terms(x, w)[0]

"""Per-frame Levenberg-Marquardt steps with analytic keypoint Jacobians (JAX).

Parameters per frame: ``x = [pose (55*3) | transl (3) | expression (E)]``. Keypoint ``k`` is a
skinned point ``p_k = Σ_i G_i X_ki + ω_ki t_i`` (joints are the special case ``ω = one-hot``),
with world rotations ``G_i``, skinning translations ``t_i`` and per-joint rest offsets
``X_ki = Σ_c bary_kc w_{v_c,i} v_{v_c}``. A change ``δθ_a`` of joint ``a``'s axis-angle rotates
everything skinned below ``a`` about the posed joint ``P_a`` with world angular velocity
``M_a δθ_a``, ``M_a = G_parent(a) J_l(θ_a)`` (left Jacobian of SO(3)), hence

    ∂p_k/∂θ_a δθ_a = (M_a δθ_a) × (Y_ka − C_ka P_a),
    Y_ka = Σ_{i ∈ sub(a)} Q_ki,  C_ka = Σ_{i ∈ sub(a)} ω_ki,  Q_ki = G_i X_ki + ω_ki t_i.

Pose correctives and the expression's effect on joints are left out of the Jacobian (they are in
the residual, so the accept/reject test stays exact). The robust term uses iteratively
reweighted least squares (Geman-McClure weights ``σ⁴/(σ²+r²)²``); smoothness pulls each frame's
keypoints towards the mean of its neighbours' (fixed within one step, Jacobi style).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from body_models.fitting import priors
from body_models.fitting.losses import geman_mcclure
from body_models.lbs import LBSArrays, forward_kinematics, rodrigues, shaped_rest
from body_models.model_file import ModelData

POSE_DIM = 165
TRANSL = slice(165, 168)


class JacobianArrays(NamedTuple):
    """Constants for the analytic Jacobian on the keypoint vertex subset.

    Each keypoint touches few joints (``M`` at most): ``joint_idx (K, M)`` lists them (padding has
    zero weight), so per-keypoint sums run over ``M`` instead of all 55 joints.
    """

    joint_idx: jax.Array  # (K, M) int32 joints that move keypoint k
    bw: jax.Array  # (K, 3, M) barycentric × skinning weight of those joints
    tri: jax.Array  # (K, 3) int32 subset vertex ids (0 for joint keypoints)
    onehot: jax.Array  # (K, M) 1 where keypoint k is joint joint_idx[k, m]
    omega: jax.Array  # (K, M) total weight of joint joint_idx[k, m] in keypoint k
    sub: jax.Array  # (55, 55) sub[a, i] = 1 if i is a or below a
    expr_x: jax.Array  # (K, M, 3, E) skinned expression directions


def subtree_matrix(parents: np.ndarray) -> np.ndarray:
    J = len(parents)
    sub = np.eye(J)
    for i in range(J):
        p = parents[i]
        while p >= 0:
            sub[p, i] = 1.0
            p = parents[p]
    return sub


def make_jacobian_arrays(model: ModelData, vertex_ids: np.ndarray) -> JacobianArrays:
    lookup = np.full(model.num_vertices, -1, dtype=np.int64)
    lookup[vertex_ids] = np.arange(len(vertex_ids))
    surf = model.kpt_joint_ids < 0
    K = len(surf)
    tri_global = np.zeros((K, 3), dtype=np.int64)
    tri_global[surf] = model.faces[model.kpt_face_ids[surf]]
    bw = np.where(surf[:, None, None], model.kpt_bary[:, :, None] * model.weights[tri_global], 0.0)
    onehot = np.zeros((K, 55))
    onehot[np.nonzero(~surf)[0], model.kpt_joint_ids[~surf]] = 1.0
    omega = bw.sum(1) + onehot
    nonzero = (np.abs(bw).sum(1) + onehot) > 0
    M = max(1, int(nonzero.sum(1).max()))
    idx = np.argsort(~nonzero, axis=1, kind="stable")[:, :M]  # used joints first
    rows = np.arange(K)[:, None]
    used = nonzero[rows, idx]
    expr_x = np.einsum("kci,kcde->kide", bw, model.exprdirs[tri_global])
    bw_s = np.swapaxes(bw, 1, 2)[rows, idx] * used[..., None]  # (K, M, 3)
    return JacobianArrays(
        joint_idx=jnp.asarray(idx, jnp.int32),
        bw=jnp.asarray(np.swapaxes(bw_s, 1, 2), jnp.float32),
        tri=jnp.asarray(np.where(surf[:, None], lookup[tri_global], 0), jnp.int32),
        onehot=jnp.asarray(onehot[rows, idx] * used, jnp.float32),
        omega=jnp.asarray(omega[rows, idx] * used, jnp.float32),
        sub=jnp.asarray(subtree_matrix(model.parents), jnp.float32),
        expr_x=jnp.asarray(expr_x[rows, idx] * used[..., None, None], jnp.float32),
    )


def left_jacobian(axis_angle: jax.Array) -> jax.Array:
    """``(..., 3)`` -> ``(..., 3, 3)`` left Jacobian of SO(3): Exp(θ+δ) ≈ Exp(J_l δ) Exp(θ)."""
    x, y, z = axis_angle[..., 0], axis_angle[..., 1], axis_angle[..., 2]
    t2 = x * x + y * y + z * z
    small = t2 < 1e-6
    s2 = jnp.where(small, 1.0, t2)
    t = jnp.sqrt(s2)
    a = jnp.where(small, 0.5 - t2 / 24.0, (1.0 - jnp.cos(t)) / s2)
    b = jnp.where(small, 1.0 / 6.0 - t2 / 120.0, (t - jnp.sin(t)) / (s2 * t))
    zero = jnp.zeros_like(x)
    K = jnp.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(axis_angle.shape + (3,))
    return (
        jnp.eye(3, dtype=axis_angle.dtype) + a[..., None, None] * K + b[..., None, None] * (K @ K)
    )


def split_params(x: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(B, P)`` -> pose ``(B, 55, 3)``, transl ``(B, 3)``, expression ``(B, E)``."""
    return x[:, :POSE_DIM].reshape(-1, 55, 3), x[:, TRANSL], x[:, TRANSL.stop :]


def keypoints_and_jacobian(
    arrays: LBSArrays,
    jac: JacobianArrays,
    parents: np.ndarray,
    levels,
    betas: jax.Array,
    x: jax.Array,
    cols: np.ndarray,
) -> tuple[jax.Array, jax.Array]:
    """Keypoints ``(B, K, 3)`` and their Jacobian ``(B, K, 3, len(cols))`` for columns ``cols``."""
    pose, transl, expr = split_params(x)
    B = x.shape[0]
    rest_j, v = shaped_rest(arrays, betas, expr)
    rot = rodrigues(pose)
    if arrays.posedirs.shape[0]:
        feat = (rot[:, 1:] - jnp.eye(3, dtype=rot.dtype)).reshape(B, -1)
        v = v + (feat @ arrays.posedirs).reshape(v.shape)
    G, P = forward_kinematics(rot, rest_j, parents, levels)
    t = P - jnp.einsum("bimn,bin->bim", G, rest_j)
    idx = jac.joint_idx
    X = (
        jnp.einsum("kcm,bkcd->bkmd", jac.bw, v[:, jac.tri])
        + jac.onehot[None, ..., None] * (rest_j[:, idx])
    )
    G_k = G[:, idx]  # (B, K, M, 3, 3)
    Q = jnp.einsum("bkmij,bkmj->bkmi", G_k, X) + jac.omega[None, ..., None] * t[:, idx]
    p = Q.sum(2) + transl[:, None]

    cols = np.asarray(cols)
    pose_cols = cols[cols < POSE_DIM]
    blocks = []
    if pose_cols.size:
        joints = np.unique(pose_cols // 3)
        par = np.asarray(parents)
        G_par = jnp.where((par[joints] >= 0)[None, :, None, None], G[:, np.maximum(par[joints], 0)],
                          jnp.eye(3))  # fmt: skip
        Mrot = G_par @ left_jacobian(pose[:, joints])  # (B, A, 3, 3)
        below = jac.sub[joints][:, idx] * (jac.omega != 0)  # (A, K, M): joint m below a?
        Y = jnp.einsum("akm,bkmc->bkac", below, Q)
        C = jnp.einsum("akm,km->ka", below, jac.omega)
        D = Y - C[None, :, :, None] * P[:, None, joints]  # (B, K, A, 3)
        # d p / d θ_{a,l} = Mrot[:, a, :, l] × D[:, k, a]
        m = jnp.swapaxes(Mrot, -1, -2)[:, None]  # (B, 1, A, 3l, 3)
        d = D[:, :, :, None, :]
        Jr = jnp.stack([m[..., 1] * d[..., 2] - m[..., 2] * d[..., 1],
                        m[..., 2] * d[..., 0] - m[..., 0] * d[..., 2],
                        m[..., 0] * d[..., 1] - m[..., 1] * d[..., 0]], 2)  # fmt: skip
        Jr = Jr.reshape(B, p.shape[1], 3, -1)  # (B, K, 3, A*3)
        local = {int(j): n for n, j in enumerate(joints)}
        sel = np.array([local[c // 3] * 3 + c % 3 for c in pose_cols])
        blocks.append(Jr[..., sel])
    n_t = int(np.sum((cols >= TRANSL.start) & (cols < TRANSL.stop)))
    if n_t:
        t_cols = cols[(cols >= TRANSL.start) & (cols < TRANSL.stop)] - TRANSL.start
        blocks.append(jnp.broadcast_to(jnp.eye(3)[:, t_cols], (B, p.shape[1], 3, n_t)))
    e_cols = cols[cols >= TRANSL.stop] - TRANSL.stop
    if e_cols.size:
        blocks.append(jnp.einsum("bkmij,kmje->bkie", G_k, jac.expr_x[..., e_cols]))
    return p, jnp.concatenate(blocks, axis=-1)


class StepWeights(NamedTuple):
    unit: jax.Array
    sigma: jax.Array
    smooth: jax.Array
    pose: jax.Array
    hinge: jax.Array
    limit: jax.Array
    angle_limit: jax.Array
    hand: jax.Array
    jaw: jax.Array
    expr: jax.Array


def prior_terms(x: jax.Array, w: StepWeights) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Separable priors: cost ``(B,)``, gradient ``(B, P)`` and Hessian diagonal ``(B, P)``.

    Each prior is ``weight × residual²`` (gradient/2 and Gauss-Newton Hessian/2 returned, matching
    the ``Σ r²`` convention of the data term).
    """
    P = x.shape[1]
    kinds = np.zeros(P, np.int32)
    for j in priors.BODY_JOINTS:
        kinds[3 * j : 3 * j + 3] = 1
    for side in ("left", "right"):
        for j in priors.HAND_JOINTS[side]:
            kinds[3 * j : 3 * j + 3] = 2
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
    # soft angle limits on body joints
    body = np.nonzero(kinds == 1)[0]
    ex = jnp.abs(x[:, body]) - w.angle_limit
    act = ex > 0
    cost += w.limit * jnp.sum(jnp.where(act, ex * ex, 0.0), -1)
    grad = grad.at[:, body].add(jnp.where(act, w.limit * ex * jnp.sign(x[:, body]), 0.0))
    hess = hess.at[:, body].add(jnp.where(act, w.limit, 0.0))
    return cost, grad, hess


def frame_cost(p, x, target, conf_w, nb_mean, nb_weight, w: StepWeights) -> jax.Array:
    """``(B,)`` per-frame cost: robust data + smoothness towards neighbours (``nb_weight (B, K)``)
    + priors."""
    inv_u2 = 1.0 / (w.unit * w.unit)
    sq = jnp.sum(jnp.square(p - target), -1)
    data = jnp.sum(conf_w * geman_mcclure(sq, w.sigma), -1) * inv_u2
    smooth = w.smooth * jnp.sum(nb_weight * jnp.sum(jnp.square(p - nb_mean), -1), -1) * inv_u2
    return data + smooth + prior_terms(x, w)[0]

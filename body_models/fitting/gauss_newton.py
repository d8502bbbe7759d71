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
reweighted least squares (Geman-McClure weights ``σ⁴/(σ²+r²)²``). With isotropic per-keypoint
weights the normal equations need only the lever arms ``D`` (``normal_equations``), never ``J``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from body_models.fitting.objective import POSE_DIM, TRANSL
from body_models.lbs import LBSArrays, forward_kinematics, rodrigues, shaped_rest
from body_models.model_file import ModelData


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
    expr_rows: np.ndarray  # (Ke,) keypoints that expressions move (static; face and head)


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
    expr_rows = np.nonzero(np.abs(expr_x).sum((1, 2, 3)) > 0)[0]
    bw_s = np.swapaxes(bw, 1, 2)[rows, idx] * used[..., None]  # (K, M, 3)
    return JacobianArrays(
        joint_idx=jnp.asarray(idx, jnp.int32),
        bw=jnp.asarray(np.swapaxes(bw_s, 1, 2), jnp.float32),
        tri=jnp.asarray(np.where(surf[:, None], lookup[tri_global], 0), jnp.int32),
        onehot=jnp.asarray(onehot[rows, idx] * used, jnp.float32),
        omega=jnp.asarray(omega[rows, idx] * used, jnp.float32),
        sub=jnp.asarray(subtree_matrix(model.parents), jnp.float32),
        expr_x=jnp.asarray(expr_x[rows, idx] * used[..., None, None], jnp.float32),
        expr_rows=expr_rows,
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


class Linearization(NamedTuple):
    """Keypoints of a frame batch and what their Jacobian is made of (rows ``K`` = keypoints).

    The pose block of keypoint ``k`` and joint ``a`` is ``J_ka = -[D_ka]× M_a`` (3×3); the
    translation block is the identity (columns ``t_cols``); expressions give ``Je`` on the
    rows ``e_rows`` (positions in ``D``'s rows; expressions do not move the others).
    """

    p: jax.Array  # (B, K, 3) keypoints
    D: jax.Array  # (B, K, A, 3) lever arms of the A free joints (zero if k is not below a)
    M: jax.Array  # (B, A, 3, 3) world angular velocity per unit axis-angle change
    t_cols: np.ndarray  # translation columns (0..2) that are free (static)
    Je: jax.Array  # (B, Ke, 3, E') free expression columns on rows e_rows
    e_rows: np.ndarray  # (Ke,) static
    attached: tuple = ()  # (M_h (B, Ah, 3, 3), D_h (B, R_h, Ah, 3)) per attached block


def split_cols(cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Free joints, translation and expression columns; pose columns must be whole joints."""
    cols = np.asarray(cols)
    pose = cols[cols < POSE_DIM]
    joints = np.unique(pose // 3)
    if not np.array_equal(pose, (3 * joints[:, None] + np.arange(3)).ravel()):
        raise ValueError(f"pose columns: expected whole joints in ascending order, got {pose}")
    t_cols = cols[(cols >= TRANSL.start) & (cols < TRANSL.stop)] - TRANSL.start
    return joints, t_cols, cols[cols >= TRANSL.stop] - TRANSL.stop


def linearize(
    arrays: LBSArrays,
    jac: JacobianArrays,
    parents: np.ndarray,
    levels,
    betas: jax.Array,
    x: jax.Array,
    cols: np.ndarray,
    rows: np.ndarray | None = None,
    attached: tuple = (),
) -> Linearization:
    """Keypoints ``(B, K, 3)`` and their linearisation for columns ``cols`` (ordered: pose
    joints ascending, translation, expression). ``rows``: keypoint subset for ``D``/``Je``
    (``p`` always has all keypoints). ``attached``: ``(cols, rows)`` pairs of further pose
    blocks, linearised on their own rows only (``Linearization.attached``)."""
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
    vt = v[:, jac.tri]  # (B, K, 3 corners, 3)
    X = sum(jac.bw[None, :, c, :, None] * vt[:, :, c, None, :] for c in range(3))  # (B, K, M, 3)
    X = X + jac.onehot[None, ..., None] * rest_j[:, idx]
    G_k = G[:, idx]  # (B, K, M, 3, 3)
    Q = jnp.einsum("bkmij,bkmj->bkmi", G_k, X) + jac.omega[None, ..., None] * t[:, idx]
    p = Q.sum(2) + transl[:, None]

    joints, t_cols, e_cols = split_cols(cols)
    r = np.arange(p.shape[1]) if rows is None else np.asarray(rows)
    M, D = _lever_arms(jac, G, P, Q, pose, parents, joints, r)
    e_rows = np.nonzero(np.isin(r, jac.expr_rows))[0] if len(e_cols) else np.zeros(0, int)
    re = r[e_rows]
    Je = jnp.einsum("bkmij,kmje->bkie", G_k[:, re], jac.expr_x[re][..., e_cols])
    extra = tuple(_lever_arms(jac, G, P, Q, pose, parents, split_cols(c)[0], np.asarray(rr))
                  for c, rr in attached)  # fmt: skip
    return Linearization(p, D, M, t_cols, Je, e_rows, extra)


def _lever_arms(jac, G, P, Q, pose, parents, joints, rows):
    """``M (B, A, 3, 3)`` and lever arms ``D (B, R, A, 3)`` of ``joints`` on keypoints ``rows``."""
    idx = jac.joint_idx
    par = np.asarray(parents)
    G_par = jnp.where((par[joints] >= 0)[None, :, None, None], G[:, np.maximum(par[joints], 0)],
                      jnp.eye(3))  # fmt: skip
    M = G_par @ left_jacobian(pose[:, joints])  # (B, A, 3, 3)
    omega = jac.omega[rows]
    below = jac.sub[joints][:, idx[rows]] * (omega != 0)  # (A, R, M): joint m below a?
    Qr = Q[:, rows]  # (B, R, M, 3); Y = Σ_m below[a, k, m] Q[k, m] (M is 1-4: element-wise)
    Y = sum(below[:, :, m].T[None, :, :, None] * Qr[:, :, m, None, :] for m in range(Qr.shape[2]))
    C = jnp.einsum("akm,km->ka", below, omega)
    return M, Y - C[None, :, :, None] * P[:, None, joints]


def jacobian(lin: Linearization) -> jax.Array:
    """The explicit Jacobian ``(B, K, 3, n)`` of the linearised rows (columns as ``cols``)."""
    B, K, A, _ = lin.D.shape
    # d p_k / d θ_{a,l} = M_a[:, l] × D_ka
    m = jnp.swapaxes(lin.M, -1, -2)[:, None]  # (B, 1, A, 3l, 3)
    d = lin.D[:, :, :, None, :]
    Jr = jnp.stack([m[..., 1] * d[..., 2] - m[..., 2] * d[..., 1],
                    m[..., 2] * d[..., 0] - m[..., 0] * d[..., 2],
                    m[..., 0] * d[..., 1] - m[..., 1] * d[..., 0]], 2)  # fmt: skip
    blocks = [Jr.reshape(B, K, 3, 3 * A)]
    if len(lin.t_cols):
        blocks.append(jnp.broadcast_to(jnp.eye(3)[:, lin.t_cols], (B, K, 3, len(lin.t_cols))))
    Je = jnp.zeros((B, K, 3, lin.Je.shape[-1]), lin.Je.dtype)
    blocks.append(Je.at[:, lin.e_rows].set(lin.Je))
    return jnp.concatenate(blocks, axis=-1)


_EPS = np.zeros((3, 3, 3), np.float32)  # Levi-Civita: (a × b)_i = ε_ijm a_j b_m
for _i, _j, _m in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
    _EPS[_i, _j, _m], _EPS[_i, _m, _j] = 1.0, -1.0


def normal_equations(lin: Linearization, w: jax.Array, e: jax.Array):
    """Gauss-Newton halves ``g = Σ_k J_kᵀ e_k`` ``(B, n)`` and ``H = Σ_k w_k J_kᵀ J_k``
    ``(B, n, n)`` for isotropic per-keypoint weights ``w (B, K)`` and errors ``e (B, K, 3)``.

    Never forms ``J``: with ``J_ka = -[D_ka]× M_a`` and ``[a]×ᵀ[b]× = (a·b) I - b aᵀ``,
    ``H_ab = M_aᵀ (tr S_ab I - S_abᵀ) M_b`` for ``S_ab = Σ_k w_k D_ka D_kbᵀ``, and every other
    block is a moment of ``D`` too (``J_kaᵀ v = M_aᵀ (D_ka × v)``): one
    ``(3A × K)·(K × (3A + 4))`` product per frame (and one over the expression rows) instead of
    ``(n × 3K)·(3K × n)``.
    """
    B, K, A, _ = lin.D.shape
    E = lin.Je.shape[-1]
    tc = lin.t_cols
    Df = lin.D.reshape(B, K, 3 * A)
    rhs = jnp.concatenate([Df * w[..., None], e, w[..., None]], -1)
    mom = jnp.matmul(jnp.swapaxes(Df, 1, 2), rhs).reshape(B, A, 3, -1)  # Σ_k D_ka,j rhs_k
    S = mom[..., : 3 * A].reshape(B, A, 3, A, 3)  # S[b, a, i, c, j] = Σ w D_ka,i D_kc,j
    H_pp = _pose_block(lin.M, S, lin.M).reshape(B, 3 * A, 3 * A)
    R_g = mom[..., 3 * A : 3 * A + 3]  # (B, A, 3j, 3m) Σ D_ka,j e_k,m
    Dw = mom[..., -1]  # (B, A, 3) Σ w D_ka
    g_p = jnp.einsum("bail,ijm,bajm->bal", lin.M, _EPS, R_g).reshape(B, 3 * A)
    g, top, mid, bottom = [g_p], [H_pp], [], []
    if len(tc):
        H_pt = jnp.einsum("bail,ijm,baj->balm", lin.M, _EPS, Dw)[..., tc].reshape(B, 3 * A, -1)
        H_tt = jnp.sum(w, 1)[:, None, None] * jnp.eye(len(tc))
        top.append(H_pt)
        mid = [jnp.swapaxes(H_pt, 1, 2), H_tt]
        g.append(jnp.sum(e, 1)[:, tc])
    if E:  # expressions move only the rows e_rows (Ke of them)
        Ke = len(lin.e_rows)
        we, ee = w[:, lin.e_rows], e[:, lin.e_rows]
        Jew = lin.Je * we[..., None, None]
        R_e = jnp.matmul(jnp.swapaxes(Df[:, lin.e_rows], 1, 2), Jew.reshape(B, Ke, 3 * E))
        R_e = R_e.reshape(B, A, 3, 3, E)  # Σ w D_ka,j Je_k,m,e
        H_pe = jnp.einsum("bail,ijm,bajme->bale", lin.M, _EPS, R_e).reshape(B, 3 * A, E)
        Je3 = lin.Je.reshape(B, 3 * Ke, E)
        H_ee = jnp.matmul(jnp.swapaxes(Jew.reshape(B, 3 * Ke, E), 1, 2), Je3)
        top.append(H_pe)
        bottom.append(jnp.swapaxes(H_pe, 1, 2))
        if len(tc):
            H_te = jnp.sum(Jew, 1)[:, tc]
            mid.append(H_te)
            bottom.append(jnp.swapaxes(H_te, 1, 2))
        bottom.append(H_ee)
        g.append(jnp.einsum("bke,bk->be", Je3, ee.reshape(B, 3 * Ke)))
    rows = [jnp.concatenate(r, -1) for r in (top, mid, bottom) if r]
    return jnp.concatenate(g, -1), jnp.concatenate(rows, 1)


def _pose_block(M1: jax.Array, S: jax.Array, M2: jax.Array) -> jax.Array:
    """``M_aᵀ (tr S_ac I - S_acᵀ) M_c`` for moments ``S (B, A1, 3, A2, 3)`` ->
    ``(B, A1, 3, A2, 3)``."""
    # element-wise sums over the 3-long axes: XLA fuses them into one loop each, where
    # dot_general would batch thousands of 3×3 products
    tr = S[:, :, 0, :, 0] + S[:, :, 1, :, 1] + S[:, :, 2, :, 2]
    N = tr[:, :, None, :, None] * jnp.eye(3)[None, None, :, None, :] - jnp.swapaxes(S, 2, 4)
    T1 = sum(M1[:, :, i, :, None, None] * N[:, :, i, None] for i in range(3))  # (B, A1, 3l, A2, 3j)
    return sum(T1[..., j, None] * M2[:, None, None, :, j] for j in range(3))


def pose_pair(M1: jax.Array, D1: jax.Array, M2: jax.Array, D2w: jax.Array) -> jax.Array:
    """``(B, 3A1, 3A2)`` block ``Σ_k J_k,1ᵀ w_k J_k,2`` of two joint sets over the same rows,
    with ``D2w`` the lever arms already multiplied by the weights ``w``."""
    B, K, A1, _ = D1.shape
    A2 = D2w.shape[2]
    S = jnp.matmul(jnp.swapaxes(D1.reshape(B, K, 3 * A1), 1, 2), D2w.reshape(B, K, 3 * A2))
    return _pose_block(M1, S.reshape(B, A1, 3, A2, 3), M2).reshape(B, 3 * A1, 3 * A2)


def attached_normal(
    M_h: jax.Array,
    D_h: jax.Array,
    M_main: jax.Array,
    D_main: jax.Array,
    t_cols: np.ndarray,
    w: jax.Array,
    e: jax.Array,
):
    """Normal-equation blocks of a joint set that moves only rows ``R`` (e.g. one hand's
    fingers), coupled to the main pose joints that move those rows and the translation.

    Args:
        M_h, D_h: ``(B, Ah, 3, 3)``, ``(B, R, Ah, 3)`` of the attached joints on rows ``R``;
        M_main, D_main: ``(B, A, 3, 3)``, ``(B, R, A, 3)`` of the coupled main joints on the
            same rows.
        t_cols: free translation columns.
        w, e: ``(B, R)`` weights and ``(B, R, 3)`` errors of the rows.

    Returns:
        ``H_hh (B, 3Ah, 3Ah)``, ``H_hc (B, 3Ah, 3A + len(t_cols))``, ``g_h (B, 3Ah)``.
    """
    B, _, Ah, _ = D_h.shape
    Dw_h = D_h * w[..., None, None]
    H_hh = pose_pair(M_h, D_h, M_h, Dw_h)
    blocks = [pose_pair(M_h, Dw_h, M_main, D_main)]
    if len(t_cols):
        H_ht = jnp.einsum("bail,ijm,baj->balm", M_h, _EPS, jnp.sum(Dw_h, 1))
        blocks.append(H_ht[..., t_cols].reshape(B, 3 * Ah, -1))
    cross = jnp.einsum("bkaj,bkm->bajm", D_h, e)
    g_h = jnp.einsum("bail,ijm,bajm->bal", M_h, _EPS, cross).reshape(B, 3 * Ah)
    return H_hh, jnp.concatenate(blocks, -1), g_h

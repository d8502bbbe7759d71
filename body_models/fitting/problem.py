"""Compiled per-frame Levenberg-Marquardt steps of the sequence fit (JAX).

``FitProblem`` holds one model's constants; its jitted steps work on a batch of frames
``x (B, P)`` with ``P = 55·3 pose + 3 translation + E expression`` and per-frame data
(``target``/``conf_w``/``pull``/``pull_weight`` ``(B, K, ...)``, optional 2D camera terms).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import solve_triangular

from body_models.fitting import gauss_newton as gn
from body_models.fitting import small_spd
from body_models.fitting.objective import POSE_DIM, frame_cost, prior_terms
from body_models.fitting.reprojection import reprojection_cost, reprojection_normal
from body_models.lbs import (
    keypoint_vertices,
    keypoints_from,
    kinematic_levels,
    lbs,
    make_keypoint_arrays,
    make_lbs_arrays,
)
from body_models.model_file import ModelData

MIN_DAMPING = 1e-6
_ROW_KEYS = ("target", "conf_w", "pull", "pull_weight")


def _damped(H: jax.Array, lam: jax.Array) -> jax.Array:
    """Levenberg-Marquardt damping ``H + diag(λ diag(H) + ε)`` per frame (``lam (B,)``)."""
    d = jnp.diagonal(H, axis1=1, axis2=2)
    return H + jax.vmap(jnp.diag)(lam[:, None] * d + MIN_DAMPING)


def _chol_solve(A: jax.Array, b: jax.Array) -> jax.Array:
    return jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(A), b)


def _solve_attached(x, lam, g, H, parts, cols_np):
    """Damped step of the main columns and the attached blocks (``FitProblem._joint_normal``):
    the blocks (e.g. the ten fingers) are eliminated first by a Schur complement, each touching
    only its ``cidx`` main columns (its arm chain and the translation)."""
    sizes = {(len(ch), len(ci)) for ch, _, _, _, ci in parts}
    if len(sizes) != 1:
        raise ValueError(f"attached blocks: expected equal sizes, got {sorted(sizes)}")
    n_h, B, n = len(parts), x.shape[0], H.shape[-1]
    A_h = jnp.concatenate([_damped(hh, lam) for _, hh, _, _, _ in parts])  # (n_h·B, h, h)
    rhs = jnp.concatenate([jnp.concatenate([hc, gh[..., None]], -1)
                           for _, _, hc, gh, _ in parts])  # fmt: skip
    # with A_h = L Lᵀ and Z = L⁻¹ [H_hc | g_h]: H_ch A_h⁻¹ H_hc = Z_cᵀ Z_c
    small = A_h.shape[-1] <= small_spd.MAX_UNROLLED
    # one LAPACK call for all blocks: two jaxlib LAPACK kernels at once can deadlock the pool
    L = small_spd.cholesky(A_h) if small else jnp.linalg.cholesky(A_h)
    Z = small_spd.solve_lower(L, rhs) if small else solve_triangular(L, rhs, lower=True)
    Z = Z.reshape(n_h, B, -1, rhs.shape[-1])
    ZtZ = jnp.matmul(jnp.swapaxes(Z[..., :-1], -1, -2), Z)  # (n_h, B, c, c + 1)
    # blocks sharing main columns are summed, then placed by a static one-hot map (c → n)
    groups: dict[tuple, list[int]] = {}
    for a, (*_, cidx) in enumerate(parts):
        groups.setdefault(tuple(cidx.tolist()), []).append(a)
    A, r = _damped(H, lam), g
    for cidx, members in groups.items():
        P = np.zeros((n, len(cidx)), np.float32)
        P[list(cidx), np.arange(len(cidx))] = 1.0
        U = jnp.einsum("nc,bcd->bnd", P, jnp.sum(ZtZ[np.asarray(members)], 0))
        A = A - jnp.einsum("bnd,md->bnm", U[..., :-1], P)
        r = r - U[..., -1]
    d_main = _chol_solve(A, r[..., None])[..., 0]
    x_new = x.at[:, cols_np].add(-d_main)
    d_c = jnp.stack([d_main[:, cidx] for *_, cidx in parts])  # (n_h, B, c)
    y = (Z[..., -1] - jnp.einsum("abhn,abn->abh", Z[..., :-1], d_c)).reshape(n_h * B, -1, 1)
    if small:
        d_h = small_spd.solve_upper_t(L, y)
    else:
        d_h = solve_triangular(L, y, lower=True, trans=1)
    d_h = d_h.reshape(n_h, B, -1)
    for a, (ch, *_) in enumerate(parts):
        x_new = x_new.at[:, ch].add(-d_h[a])
    return x_new


class FitProblem:
    """Model constants and compiled steps (one per model; jit caches per shape and block)."""

    def __init__(self, model: ModelData, num_betas: int):
        ids = keypoint_vertices(model)
        self.num_betas = min(num_betas, model.num_betas)
        full = make_lbs_arrays(model, ids)
        # fitted betas only: the remaining columns stay 0
        self.arrays = full._replace(
            j_shapedirs=full.j_shapedirs[..., : self.num_betas],
            shapedirs=full.shapedirs[..., : self.num_betas],
        )
        self.kmap = make_keypoint_arrays(model, ids)
        self.jac = gn.make_jacobian_arrays(model, ids)
        idx, omega = np.asarray(self.jac.joint_idx), np.asarray(self.jac.omega)
        self.touch = np.zeros((len(idx), 55), bool)  # (K, 55) joints skinning each keypoint
        np.put_along_axis(self.touch, idx, omega != 0, axis=1)
        self.sub = gn.subtree_matrix(model.parents) > 0
        self.parents = np.asarray(model.parents)
        self.levels = kinematic_levels(model.parents)

    def __hash__(self):
        return id(self)

    def keypoints(self, betas, x):
        """Keypoints ``(B, K, 3)`` for shared ``(S,)`` or per-frame ``(B, S)`` betas."""
        pose, transl, expr = gn.split_params(x)
        b = jnp.broadcast_to(betas, (x.shape[0], betas.shape[-1]))
        joints, verts = lbs(self.arrays, self.parents, self.levels, b, expr, pose, transl)
        return keypoints_from(joints, verts, self.kmap)

    @partial(jax.jit, static_argnames=("self",))
    def keypoints_jit(self, betas, x):
        return self.keypoints(betas, x)

    def moves(self, joints: np.ndarray) -> np.ndarray:
        """``(K, A)`` whether rotating joint ``joints[a]`` moves keypoint ``k`` (it skins ``k``
        or is an ancestor of a joint that does)."""
        return (self.touch[:, None, :] & self.sub[joints][None]).any(2)

    def affected_rows(self, cols_np: np.ndarray) -> np.ndarray | None:
        """Keypoints that the pose columns ``cols`` can move (None = all, e.g. translation)."""
        if np.any(cols_np >= POSE_DIM):
            return None
        rows = np.nonzero(self.moves(np.unique(cols_np // 3)).any(1))[0]
        return rows if len(rows) < len(self.touch) else None

    def independent_blocks(self, cols: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
        """Split the pose columns ``cols`` into groups of joints that move disjoint keypoints
        (e.g. a hand into its five fingers): their normal-equation blocks do not couple."""
        cols_np = np.asarray(cols)
        joints = np.unique(cols_np // 3)
        if np.any(cols_np >= POSE_DIM) or len(cols_np) != 3 * len(joints):
            raise ValueError(f"independent_blocks: expected whole pose joints, got {cols}")
        moves = self.moves(joints)
        link = (moves.T.astype(int) @ moves.astype(int) > 0) | np.eye(len(joints), dtype=bool)
        label = np.arange(len(joints))
        for _ in range(len(joints)):  # propagate the smallest label through shared keypoints
            label = np.min(np.where(link, label[None, :], len(joints)), 1)
        return tuple(tuple(int(3 * j + k) for j in joints[label == c] for k in range(3))
                     for c in np.unique(label))  # fmt: skip

    @staticmethod
    def _row_weights(p, d, w):
        """Per-keypoint IRLS + smoothness weights ``(B, K)`` and weighted errors ``(B, K, 3)``."""
        inv_u2 = 1.0 / (w.step.unit * w.step.unit)
        r = p - d["target"]
        s2 = w.step.sigma * w.step.sigma
        irls = d["conf_w"] * s2 * s2 / jnp.square(s2 + jnp.sum(r * r, -1)) * inv_u2
        ws = d["pull_weight"] * inv_u2
        return irls + ws, irls[..., None] * r + ws[..., None] * (p - d["pull"])

    def _normal(self, x, betas, data, w, cols_np, with_betas: bool):
        """Keypoints and Gauss-Newton normal equations (halves) of each frame: ``H (B, n, n)``,
        ``g (B, n)`` over ``cols`` followed (with ``with_betas``) by the betas."""
        B = x.shape[0]
        explicit = with_betas or "target2d" in data
        rows = None if explicit else self.affected_rows(cols_np)
        lin = gn.linearize(self.arrays, self.jac, self.parents, self.levels, betas, x, cols_np,
                           rows)  # fmt: skip
        p = lin.p if rows is None else lin.p[:, rows]
        d = data if rows is None else {k: data[k][:, rows] for k in _ROW_KEYS}
        wk, e = self._row_weights(p, d, w)
        if explicit:
            J = gn.jacobian(lin)
            if with_betas:
                Jb = jax.jacfwd(lambda b: self.keypoints(b, x))(betas)  # (B, K, 3, S)
                J = jnp.concatenate([J, Jb], -1)
            Jf = J.reshape(B, -1, J.shape[-1])  # (B, 3K, n), rows ordered (k, xyz)
            g = jnp.einsum("bin,bi->bn", Jf, e.reshape(B, -1))
            H = jnp.matmul(jnp.swapaxes(Jf * jnp.repeat(wk, 3, axis=-1)[..., None], 1, 2), Jf)
            if "target2d" in data:
                g2, H2 = reprojection_normal(lin.p, J, data, w)
                scale = w.reproj_weight / jnp.square(w.step.unit)
                g, H = g + scale * g2, H + scale * H2
        else:
            g, H = gn.normal_equations(lin, wk, e)
        g, H = self._add_priors(g, H, x, w, cols_np)
        if with_betas:  # the shape prior is counted once per frame
            S = betas.shape[0]
            g = g.at[:, -S:].add(w.shape * betas)
            H = H + jnp.pad(jnp.eye(S) * w.shape, ((H.shape[1] - S, 0), (H.shape[1] - S, 0)))
        return lin.p, g, H

    @staticmethod
    def _add_priors(g, H, x, w, cols_np):
        """Add the separable priors of columns ``cols`` to the leading block of ``g``, ``H``."""
        _, pg, ph = prior_terms(x, w.step)
        n = len(cols_np)
        g = g.at[:, :n].add(pg[:, cols_np])
        idx = np.arange(n)
        return g, H.at[:, idx, idx].add(ph[:, cols_np])

    def _joint_normal(self, x, betas, data, w, cols_np, attached):
        """Normal equations of the main columns (all rows) and of each attached joint block
        (its own rows only), from one linearisation. Each block couples only to the main
        columns that move its rows (its joint's ancestors and the translation): ``parts`` holds
        ``(cols, H_hh (B, h, h), H_hc (B, h, c), g_h (B, h), cidx (c,))`` with ``cidx`` those
        columns' positions in the main block."""
        row_sets = [self.affected_rows(np.asarray(c)) for c in attached]
        flat = [r for rows in row_sets if rows is not None for r in rows.tolist()]
        if any(rows is None for rows in row_sets) or len(flat) != len(set(flat)):
            raise ValueError("attached blocks: expected pose joints moving disjoint rows")
        if np.isin(flat, self.jac.expr_rows).any():
            raise ValueError("attached blocks: expected rows that expressions do not move")
        lin = gn.linearize(self.arrays, self.jac, self.parents, self.levels, betas, x, cols_np,
                           attached=tuple(zip(map(np.asarray, attached), row_sets)))  # fmt: skip
        wk, e = self._row_weights(lin.p, data, w)
        g, H = self._add_priors(*gn.normal_equations(lin, wk, e), x, w, cols_np)
        joints = gn.split_cols(cols_np)[0]
        main_moves = self.moves(joints)  # (K, A)
        parts = []
        for ch, rows, (M_h, D_h) in zip(map(np.asarray, attached), row_sets, lin.attached):
            # main joints whose subtree skins any of these rows
            cj = np.nonzero(main_moves[rows].any(0))[0]
            cidx = np.concatenate([(3 * cj[:, None] + np.arange(3)).ravel(),
                                   3 * len(joints) + np.arange(len(lin.t_cols))])  # fmt: skip
            H_hh, H_hc, g_h = gn.attached_normal(M_h, D_h, lin.M[:, cj], lin.D[:, rows][:, :, cj],
                                                 lin.t_cols, wk[:, rows], e[:, rows])  # fmt: skip
            g_h, H_hh = self._add_priors(g_h, H_hh, x, w, ch)
            parts.append((ch, H_hh, H_hc, g_h, cidx))
        return lin.p, g, H, parts

    def cost(self, p, x, betas, data, w):
        """``(B,)`` per-frame cost (the shape prior counted once per frame)."""
        c = frame_cost(p, x, data["target"], data["conf_w"], data["pull"], data["pull_weight"],
                       w.step)  # fmt: skip
        if "target2d" in data:
            c += w.reproj_weight * reprojection_cost(p, data, w) / jnp.square(w.step.unit)
        return c + w.shape * jnp.sum(betas * betas)

    @partial(jax.jit, static_argnames=("self", "cols", "attached"))
    def lm_step(self, x, lam, betas, data, w, cols, attached=()):
        """One damped Gauss-Newton step per frame on columns ``cols`` and, jointly, on the
        ``attached`` pose blocks (each moving only its own keypoints, e.g. the fingers of one
        hand), which are eliminated first (Schur complement). Keeps improving steps; returns
        ``x``, ``lam``, the cost ``(B,)`` and the keypoints ``(B, K, 3)`` of the kept ``x``."""
        cols_np = np.asarray(cols)
        if not attached:
            p, g, H = self._normal(x, betas, data, w, cols_np, False)
            x_new = x.at[:, cols_np].add(-_chol_solve(_damped(H, lam), g[..., None])[..., 0])
        else:
            p, g, H, parts = self._joint_normal(x, betas, data, w, cols_np, attached)
            x_new = _solve_attached(x, lam, g, H, parts, cols_np)
        cost_old = self.cost(p, x, betas, data, w)
        p_new = self.keypoints(betas, x_new)
        cost_new = self.cost(p_new, x_new, betas, data, w)
        better = cost_new < cost_old  # False for a non-finite step (a failed factorisation)
        x = jnp.where(better[:, None], x_new, x)
        lam = jnp.clip(jnp.where(better, lam * 0.3, lam * 4.0), 1e-7, 1e7)
        p = jnp.where(better[:, None, None], p_new, p)
        return x, lam, jnp.where(better, cost_new, cost_old), p

    @partial(jax.jit, static_argnames=("self", "cols"))
    def schur_pass(self, x, lam, betas, data, w, cols):
        """Per-frame elimination for a joint step on ``cols`` and the shared betas.

        With damped per-frame blocks ``A_t``, ``δx_t = -A_t⁻¹ (g_t + H_xβ,t δβ)`` and
        ``(Σ_t H_ββ,t - H_βx,t A_t⁻¹ H_xβ,t) δβ = -Σ_t (g_β,t - H_βx,t A_t⁻¹ g_t)``.
        Returns the summed reduced system, ``A_t⁻¹ H_xβ,t``, ``A_t⁻¹ g_t`` and the current cost.
        """
        cols_np = np.asarray(cols)
        n = len(cols_np)
        p, g, H = self._normal(x, betas, data, w, cols_np, True)
        Hxx, Hxb, Hbb = H[:, :n, :n], H[:, :n, n:], H[:, n:, n:]
        A = _damped(Hxx, jnp.full(x.shape[:1], lam))
        sol = _chol_solve(A, jnp.concatenate([Hxb, g[:, :n, None]], -1))
        ainv_hxb, ainv_g = sol[..., :-1], sol[..., -1]
        S = jnp.sum(Hbb - jnp.einsum("bns,bnt->bst", Hxb, ainv_hxb), 0)
        s = jnp.sum(g[:, n:] - jnp.einsum("bns,bn->bs", Hxb, ainv_g), 0)
        return S, s, ainv_hxb, ainv_g, self.cost(p, x, betas, data, w)

    @partial(jax.jit, static_argnames=("self", "cols"))
    def schur_apply(self, x, ainv_hxb, ainv_g, delta_b, betas_new, data, w, cols):
        """Back-substitute ``δx_t`` for a betas step; returns new x and cost."""
        dx = -(ainv_g + jnp.einsum("bns,s->bn", ainv_hxb, delta_b))
        x_new = x.at[:, np.asarray(cols)].add(dx)
        p_new = self.keypoints(betas_new, x_new)
        return x_new, self.cost(p_new, x_new, betas_new, data, w)

"""Analytic linearisation of the fit: Jacobian vs autodiff, normal equations vs JᵀWJ, smoothness."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from body_models.fitting import gauss_newton as gn
from body_models.fitting.config import DEFAULT_STAGES
from body_models.fitting.problem import FitProblem
from body_models.fitting.smoothness import (
    local_quadratic,
    rate_scaled,
    smoothness_energy,
    smoothness_pull,
)
from body_models.fitting.solver import stage_blocks

B = 3


@pytest.fixture(scope="module")
def problem(random_model):
    return FitProblem(random_model, 10)


@pytest.fixture(scope="module")
def state(random_model):
    rng = np.random.default_rng(5)
    x = rng.normal(scale=0.3, size=(B, 168 + random_model.num_expression)).astype(np.float32)
    return jnp.asarray(x), jnp.asarray(rng.normal(size=10).astype(np.float32))


def _blocks(random_model):
    return stage_blocks(DEFAULT_STAGES[-1], random_model.num_expression)


def test_jacobian_matches_autodiff_without_correctives(random_model, state):
    """Pose correctives and the expression's effect on joints are out of the analytic Jacobian:
    compare on the same model without them (zero posedirs and expression joint directions)."""
    x, betas = state
    prob = FitProblem(random_model, 10)
    arrays = prob.arrays._replace(posedirs=prob.arrays.posedirs * 0)
    arrays = arrays._replace(j_exprdirs=arrays.j_exprdirs * 0)
    prob.arrays = arrays
    for cols in _blocks(random_model):
        cols = np.asarray(cols)
        lin = gn.linearize(prob.arrays, prob.jac, prob.parents, prob.levels, betas, x, cols)
        J = gn.jacobian(lin)  # (B, K, 3, n)

        def f(xc, cols=cols):
            return prob.keypoints(betas, x.at[:, cols].set(xc))

        J_ad = jax.jacfwd(f)(x[:, cols])  # (B, K, 3, B, n)
        J_ad = jnp.stack([J_ad[b, :, :, b] for b in range(B)])
        np.testing.assert_allclose(np.asarray(lin.p), np.asarray(prob.keypoints(betas, x)),
                                   atol=1e-5)  # fmt: skip
        scale = float(jnp.abs(J_ad).max())
        np.testing.assert_allclose(np.asarray(J), np.asarray(J_ad), atol=2e-5 * scale)


def test_normal_equations_equal_explicit_products(problem, state, random_model):
    x, betas = state
    rng = np.random.default_rng(1)
    for cols in _blocks(random_model):
        cols = np.asarray(cols)
        rows = problem.affected_rows(cols)
        lin = gn.linearize(problem.arrays, problem.jac, problem.parents, problem.levels, betas,
                           x, cols, rows)  # fmt: skip
        K = lin.D.shape[1]
        w = jnp.asarray(rng.uniform(0.1, 2.0, (B, K)).astype(np.float32))
        e = jnp.asarray(rng.normal(size=(B, K, 3)).astype(np.float32))
        g, H = gn.normal_equations(lin, w, e)
        J = np.asarray(gn.jacobian(lin), np.float64).reshape(B, 3 * K, -1)
        w3 = np.repeat(np.asarray(w, np.float64), 3, axis=1)
        H_ref = np.einsum("bin,bi,bim->bnm", J, w3, J)
        g_ref = np.einsum("bin,bi->bn", J, np.asarray(e, np.float64).reshape(B, -1))
        assert H.shape == (B, len(cols), len(cols))
        np.testing.assert_allclose(np.asarray(H), H_ref, atol=2e-4 * np.abs(H_ref).max())
        np.testing.assert_allclose(np.asarray(g), g_ref, atol=2e-4 * np.abs(g_ref).max())


def test_affected_rows_cover_every_nonzero_jacobian_row(problem, state, random_model):
    x, betas = state
    for cols in _blocks(random_model)[1:]:  # the hand blocks
        cols = np.asarray(cols)
        rows = problem.affected_rows(cols)
        lin = gn.linearize(problem.arrays, problem.jac, problem.parents, problem.levels, betas,
                           x, cols)  # fmt: skip
        J = np.abs(np.asarray(gn.jacobian(lin))).sum((0, 2, 3))
        outside = np.setdiff1d(np.arange(len(J)), rows)
        assert rows is not None and len(rows) < 40 and J[outside].max() == 0.0


def test_smoothness_pull_is_the_exact_energy_per_frame():
    """For every frame, E(p_t) - Σ_k W_tk |p_tk - c_tk|² is constant in p_t."""
    rng = np.random.default_rng(0)
    T, K = 7, 4
    p = rng.normal(size=(T, K, 3)).astype(np.float64)
    seen = rng.uniform(size=(T, K)) > 0.3
    wv, wa = 0.3, 0.7
    c, W, _ = local_quadratic(p, seen, wv, wa)
    for t in range(T):
        diffs = []
        for _ in range(3):
            q = p.copy()
            q[t] += rng.normal(size=(K, 3))
            local = np.sum(W[t] * np.sum((q[t] - c[t]) ** 2, -1))
            diffs.append(smoothness_energy(q, seen, wv, wa) - local)
        np.testing.assert_allclose(diffs, diffs[0], rtol=1e-4, atol=1e-4)
    assert smoothness_energy(p[:1], seen[:1], wv, wa) == 0.0
    # a straight constant-velocity track costs nothing under the acceleration term
    line = np.arange(T)[:, None, None] * np.ones((T, K, 3))
    assert smoothness_energy(line, np.ones((T, K), bool), 0.0, 1.0) == pytest.approx(0.0)


def test_smoothness_pull_majorises_the_energy():
    """E(P) <= E(P0) + Σ_t D_t (|p_t - c'_t|² - |p0_t - c'_t|²) for any P, equality at P0: every
    per-frame decrease of the pull cost decreases E (majorise-minimise)."""
    rng = np.random.default_rng(1)
    T, K = 9, 3
    p0 = rng.normal(size=(T, K, 3))
    seen = rng.uniform(size=(T, K)) > 0.2
    wv, wa = 0.2, 1.0
    c, D = smoothness_pull(p0, seen, wv, wa)
    c, D = c.astype(np.float64), D.astype(np.float64)

    def bound(q):
        return smoothness_energy(p0, seen, wv, wa) + np.sum(
            D * (np.sum((q - c) ** 2, -1) - np.sum((p0 - c) ** 2, -1))
        )

    assert bound(p0) == pytest.approx(smoothness_energy(p0, seen, wv, wa))
    for _ in range(20):
        q = p0 + rng.normal(size=p0.shape) * rng.uniform(0.01, 3.0)
        assert smoothness_energy(q, seen, wv, wa) <= bound(q) + 1e-9
    # the gradient matches: a small step along -grad of the pull lowers E at first order
    q = p0 - 1e-4 * D[..., None] * (p0 - c)
    assert smoothness_energy(q, seen, wv, wa) < smoothness_energy(p0, seen, wv, wa)


def test_rate_scaling():
    assert rate_scaled(1.0, 1.0, 30.0) == (1.0, 1.0)
    assert rate_scaled(1.0, 1.0, 60.0) == (4.0, 16.0)
    with pytest.raises(ValueError, match="fps"):
        rate_scaled(1.0, 1.0, 0.0)


def test_joint_hand_blocks_equal_explicit_products(problem, state, random_model):
    """The main block and the row-restricted hand blocks of one joint step equal the matching
    blocks of JᵀWJ / Jᵀe over all columns and all rows (priors included on the diagonal)."""
    from body_models.fitting.config import FitConfig
    from body_models.fitting.objective import prior_terms
    from body_models.fitting.reprojection import make_weights

    x, betas = state
    main, *hands = _blocks(random_model)
    rng = np.random.default_rng(4)
    p = np.asarray(problem.keypoints(betas, x))
    data = {"target": p + rng.normal(scale=0.02, size=p.shape).astype(np.float32),
            "conf_w": rng.uniform(size=p.shape[:2]).astype(np.float32),
            "pull": p + rng.normal(scale=0.01, size=p.shape).astype(np.float32),
            "pull_weight": rng.uniform(size=p.shape[:2]).astype(np.float32)}  # fmt: skip
    w = make_weights(FitConfig())
    _, g, H, parts = problem._joint_normal(x, betas, data, w, np.asarray(main), tuple(hands))
    all_cols = np.sort(np.concatenate([main, *hands]))
    lin = gn.linearize(problem.arrays, problem.jac, problem.parents, problem.levels, betas, x,
                       all_cols)  # fmt: skip
    wk, e = problem._row_weights(lin.p, data, w)
    J = np.asarray(gn.jacobian(lin), np.float64).reshape(B, -1, len(all_cols))
    H_all = np.einsum("bin,bi,bim->bnm", J, np.repeat(np.asarray(wk, np.float64), 3, 1), J)
    g_all = np.einsum("bin,bi->bn", J, np.asarray(e, np.float64).reshape(B, -1))
    _, pg, ph = (np.asarray(a, np.float64) for a in prior_terms(x, w.step))
    H_all[:, np.arange(len(all_cols)), np.arange(len(all_cols))] += ph[:, all_cols]
    g_all += pg[:, all_cols]
    at = {c: i for i, c in enumerate(all_cols)}
    im = np.array([at[c] for c in main])
    tol = 2e-4 * np.abs(H_all).max()
    np.testing.assert_allclose(np.asarray(H), H_all[:, im][:, :, im], atol=tol)
    np.testing.assert_allclose(np.asarray(g), g_all[:, im], atol=2e-4 * np.abs(g_all).max())
    for ch, H_hh, H_hc, g_h, cidx in parts:
        ih = np.array([at[c] for c in ch])
        np.testing.assert_allclose(np.asarray(H_hh), H_all[:, ih][:, :, ih], atol=tol)
        np.testing.assert_allclose(np.asarray(H_hc), H_all[:, ih][:, :, im[cidx]], atol=tol)
        # a hand couples only to its arm chain and the translation: the rest is exactly zero
        assert len(cidx) < len(main) // 2
        np.testing.assert_array_equal(np.delete(H_all[:, ih][:, :, im], cidx, axis=2), 0.0)
        np.testing.assert_allclose(np.asarray(g_h), g_all[:, ih], atol=2e-4 * np.abs(g_all).max())


def test_finger_elimination_equals_whole_hands(problem, state, random_model):
    """Each hand splits into five 3-joint fingers moving disjoint keypoints; eliminating the ten
    finger blocks (unrolled Cholesky) gives the same joint step as eliminating the two whole
    hands (LAPACK)."""
    from body_models.fitting.config import FitConfig
    from body_models.fitting.problem import _solve_attached
    from body_models.fitting.reprojection import make_weights

    x, betas = state
    main, *hands = _blocks(random_model)
    fingers = [f for h in hands for f in problem.independent_blocks(h)]
    assert len(fingers) == 10 and {len(f) for f in fingers} == {9}
    assert sorted(c for f in fingers for c in f) == sorted(c for h in hands for c in h)
    rng = np.random.default_rng(2)
    p = np.asarray(problem.keypoints(betas, x))
    data = {"target": p + rng.normal(scale=0.02, size=p.shape).astype(np.float32),
            "conf_w": rng.uniform(size=p.shape[:2]).astype(np.float32),
            "pull": p, "pull_weight": np.zeros(p.shape[:2], np.float32)}  # fmt: skip
    w = make_weights(FitConfig())
    lam = jnp.full((B,), 1e-2, jnp.float32)
    steps = []
    for blocks in (tuple(hands), tuple(fingers)):
        _, g, H, parts = problem._joint_normal(x, betas, data, w, np.asarray(main), blocks)
        steps.append(np.asarray(_solve_attached(x, lam, g, H, parts, np.asarray(main)) - x))
    np.testing.assert_allclose(steps[1], steps[0], atol=2e-3 * np.abs(steps[0]).max())
    assert np.abs(steps[0]).max() > 1e-3

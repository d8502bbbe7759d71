"""Fitting priors: the hand PCA quadratic, its gradient and its diagonal majoriser."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from body_models.fitting import priors
from body_models.fitting.config import FitConfig
from body_models.fitting.objective import prior_terms
from body_models.fitting.reprojection import make_weights


def test_hand_pca_quadratic_is_weighted_coefficient_l2():
    rng = np.random.default_rng(0)
    C = rng.normal(size=(45, 45))  # rows: PCA components (not orthonormal)
    Q = priors.hand_pca_quadratic(C, 12, 0.5, 3.0)
    d = rng.normal(size=(7, 45))
    c = np.linalg.solve(C.T, d.T).T  # d = c @ C
    expected = 0.5 * np.sum(c[:, :12] ** 2, 1) + 3.0 * np.sum(c[:, 12:] ** 2, 1)
    np.testing.assert_allclose(np.einsum("ti,ij,tj->t", d, Q, d), expected, rtol=1e-8)
    with pytest.raises(ValueError, match="45, 45"):
        priors.hand_pca_quadratic(C[:10], 12, 1.0, 1.0)
    with pytest.raises(ValueError, match="0..45"):
        priors.hand_pca_quadratic(C, 46, 1.0, 1.0)
    with pytest.raises(ValueError, match="hand PCA"):
        FitConfig(hand_pca_components=50)


def test_prior_terms_gradient_and_majorising_diagonal(random_model):
    """gradient/2 of the cost equals jax.grad/2; the diagonal dominates the exact Hessian/2, so
    steps with it never overshoot the prior (majorise-minimise)."""
    cfg = dataclasses.replace(FitConfig(), hand_pca_weight=0.3, hand_pca_outside_weight=2.0)
    w = make_weights(cfg, random_model).step
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.normal(scale=0.5, size=(2, 168 + 10)), jnp.float32)
    cost, grad, hess = prior_terms(x, w)
    g_ad = jax.grad(lambda x: jnp.sum(prior_terms(x, w)[0]))(x) / 2
    np.testing.assert_allclose(np.asarray(grad), np.asarray(g_ad), rtol=1e-4, atol=1e-5)
    hands = priors.HAND_COLUMNS["left"]
    H_ad = jax.hessian(lambda xl: jnp.sum(prior_terms(x.at[0, hands].set(xl), w)[0][0]))(
        x[0, hands]
    ) / 2  # fmt: skip
    gap = np.diag(np.asarray(hess[0, hands], np.float64)) - np.asarray(H_ad, np.float64)
    assert np.linalg.eigvalsh(gap).min() > -1e-4
    # the PCA term pulls towards the model's mean hand
    x_mean = x.at[:, hands].set(jnp.asarray(random_model.hands_mean_l, jnp.float32))
    assert float(prior_terms(x_mean, w)[0][0]) < float(cost[0])

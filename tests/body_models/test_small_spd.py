"""Unrolled batched Cholesky and triangular solves vs float64 LAPACK."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from body_models.fitting import small_spd


@pytest.mark.parametrize("n", [1, 2, 9, 16])
def test_cholesky_and_solves_match_lapack(n):
    rng = np.random.default_rng(n)
    X = rng.normal(size=(5, n, 3 * n))
    A = X @ np.swapaxes(X, 1, 2) / n + 1e-2 * np.eye(n)
    R = rng.normal(size=(5, n, 4))
    L_ref = np.linalg.cholesky(A)
    L = small_spd.cholesky(jnp.asarray(A, jnp.float32))
    np.testing.assert_allclose(np.asarray(L), L_ref, atol=2e-5 * np.abs(L_ref).max())
    assert np.all(np.triu(np.asarray(L), 1) == 0.0)
    y = small_spd.solve_lower(L, jnp.asarray(R, jnp.float32))
    y_ref = np.linalg.solve(L_ref, R)
    np.testing.assert_allclose(np.asarray(y), y_ref, atol=1e-4 * np.abs(y_ref).max())
    z = small_spd.solve_upper_t(L, y)  # A⁻¹ R
    z_ref = np.linalg.solve(A, R)
    np.testing.assert_allclose(np.asarray(z), z_ref, atol=1e-3 * np.abs(z_ref).max())


def test_not_positive_definite_gives_nan_and_bad_shapes_raise():
    A = jnp.asarray(np.diag([1.0, -1.0, 2.0]), jnp.float32)[None]
    assert np.isnan(np.asarray(small_spd.cholesky(A))[0, 1:, 1]).all()
    with pytest.raises(ValueError, match="n <= 16"):
        small_spd.cholesky(jnp.eye(17)[None])
    with pytest.raises(ValueError, match="expected"):
        small_spd.solve_lower(jnp.ones((2, 3, 4)), jnp.ones((2, 3, 1)))

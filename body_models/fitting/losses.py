"""Robust kernel of the fitting data terms (JAX, pure functions)."""

from __future__ import annotations

import jax


def geman_mcclure(sq_residual: jax.Array, sigma) -> jax.Array:
    """ρ(r²) = σ² r² / (σ² + r²): ≈ r² for small residuals, saturates at σ² for outliers.

    Its derivative ρ'(r²) = σ⁴ / (σ² + r²)² gives the iteratively reweighted least-squares weights.

    References: Geman & McClure 1987; used by SMPLify / SMPLify-X for keypoint data terms.
    """
    s2 = sigma * sigma
    return s2 * sq_residual / (s2 + sq_residual)

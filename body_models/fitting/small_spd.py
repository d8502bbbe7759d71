"""Batched Cholesky factorisation and triangular solves of small SPD systems in plain XLA.

For the many tiny blocks of a fit step (e.g. one 9×9 system per finger and frame) the loops are
unrolled over the matrix size ``n`` and vectorised over the batch, so they compile to a few
fused element-wise kernels instead of LAPACK calls (jaxlib's LAPACK kernels run one small
matrix at a time and wait on the XLA thread pool, which is slow for thousands of tiny matrices
and stalls when the cores are busy). Meant for ``n`` up to ~16; use LAPACK beyond.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

MAX_UNROLLED = 16


def _check(A: jax.Array) -> int:
    n = A.shape[-1]
    if A.ndim < 2 or A.shape[-2] != n or n > MAX_UNROLLED:
        raise ValueError(f"small SPD: expected (..., n, n) with n <= {MAX_UNROLLED}, got {A.shape}")
    return n


def cholesky(A: jax.Array) -> jax.Array:
    """Lower Cholesky factor ``L (..., n, n)`` of SPD ``A (..., n, n)`` (``A = L Lᵀ``; NaN where
    ``A`` is not positive definite, as LAPACK)."""
    n = _check(A)
    cols: list[jax.Array] = []  # column j of L below and on the diagonal, (..., n - j)
    for j in range(n):
        v = A[..., j:, j]
        for i, c in enumerate(cols):  # subtract L[j:, i] * L[j, i]
            v = v - c[..., j - i :] * c[..., j - i, None]
        d = jnp.sqrt(v[..., :1])
        cols.append(jnp.concatenate([d, v[..., 1:] / d], -1))
    pad = [jnp.pad(c, [(0, 0)] * (c.ndim - 1) + [(j, 0)]) for j, c in enumerate(cols)]
    return jnp.stack(pad, -1)


def solve_lower(L: jax.Array, B: jax.Array) -> jax.Array:
    """``L⁻¹ B`` for lower-triangular ``L (..., n, n)`` and ``B (..., n, m)``."""
    n = _check(L)
    rows: list[jax.Array] = []
    for i in range(n):
        r = B[..., i, :]
        for j, y in enumerate(rows):
            r = r - L[..., i, j, None] * y
        rows.append(r / L[..., i, i, None])
    return jnp.stack(rows, -2)


def solve_upper_t(L: jax.Array, B: jax.Array) -> jax.Array:
    """``L⁻ᵀ B`` for lower-triangular ``L (..., n, n)`` and ``B (..., n, m)``."""
    n = _check(L)
    rows: dict[int, jax.Array] = {}
    for i in reversed(range(n)):
        r = B[..., i, :]
        for j in range(i + 1, n):
            r = r - L[..., j, i, None] * rows[j]
        rows[i] = r / L[..., i, i, None]
    return jnp.stack([rows[i] for i in range(n)], -2)

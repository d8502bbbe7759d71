"""Linear bases of the open body: shape PCA, expression PCA and the joint regressor (numpy)."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import nnls


@dataclasses.dataclass(frozen=True)
class PCABasis:
    """Principal components of vertex offsets.

    Attributes:
        mean: (V, 3) mean mesh (zeros for an uncentred basis).
        dirs: (V, 3, C) components scaled by their standard deviation, so unit-variance
            coefficients reproduce the sampled population (the SMPL ``betas`` convention).
        explained: (C,) fraction of the total variance explained by each component.
    """

    mean: np.ndarray
    dirs: np.ndarray
    explained: np.ndarray


def pca_basis(meshes: np.ndarray, num_components: int, centre: bool = True) -> PCABasis:
    """PCA of (N, V, 3) meshes; ``centre=False`` gives the uncentred (origin-anchored) basis."""
    n, v, _ = meshes.shape
    if num_components > min(n, 3 * v):
        raise ValueError(f"num_components must be <= {min(n, 3 * v)}, got {num_components}")
    flat = meshes.reshape(n, -1)
    mean = flat.mean(axis=0) if centre else np.zeros(flat.shape[1])
    _, s, vt = np.linalg.svd(flat - mean, full_matrices=False)
    var = s**2 / n
    dirs = vt[:num_components] * np.sqrt(var[:num_components])[:, None]
    # Fix the sign of each component (largest-magnitude entry positive) for a deterministic file.
    signs = np.sign(dirs[np.arange(num_components), np.abs(dirs).argmax(axis=1)])
    dirs = dirs * signs[:, None]
    return PCABasis(
        mean=mean.reshape(v, 3),
        dirs=dirs.T.reshape(v, 3, num_components),
        explained=var[:num_components] / var.sum(),
    )


def fit_joint_regressor(
    meshes: np.ndarray,
    joints: np.ndarray,
    candidates: list[np.ndarray],
    sum_weight: float = 100.0,
) -> np.ndarray:
    """Sparse, non-negative, normalised vertex weights reproducing joints across body shapes.

    For each joint j, solves ``min || sum_i w_i v_i(n) - J_j(n) ||^2`` over all bodies n with
    ``w >= 0`` and ``sum w = 1`` (enforced by a heavily weighted extra row), over the candidate
    vertices of that joint.

    Args:
        meshes: (N, V, 3) vertices of N bodies in the rest pose.
        joints: (N, J, 3) the joint positions to reproduce.
        candidates: per joint, the vertex indices allowed in its row.
        sum_weight: weight of the sum-to-one row.

    Returns:
        (J, V) regressor, rows sum to 1.
    """
    n, v, _ = meshes.shape
    regressor = np.zeros((joints.shape[1], v))
    for j, cand in enumerate(candidates):
        a = meshes[:, cand, :].transpose(0, 2, 1).reshape(3 * n, len(cand))
        b = joints[:, j, :].reshape(3 * n)
        a = np.vstack([a, np.full((1, len(cand)), sum_weight)])
        b = np.concatenate([b, [sum_weight]])
        w, _ = nnls(a, b, maxiter=50 * len(cand))
        regressor[j, cand] = w / w.sum()
    return regressor


def _directions() -> np.ndarray:
    grid = np.stack(np.meshgrid(*([np.array([-1.0, 0.0, 1.0])] * 3), indexing="ij"), -1)
    dirs = grid.reshape(-1, 3)
    dirs = dirs[np.abs(dirs).sum(axis=1) > 0]
    return dirs / np.linalg.norm(dirs, axis=1, keepdims=True)  # (26, 3)


def regressor_candidates(
    template: np.ndarray,
    joints: np.ndarray,
    weights: np.ndarray,
    parents: np.ndarray,
    per_direction: int = 3,
    min_weight: float = 0.2,
) -> list[np.ndarray]:
    """Candidate vertices per joint surrounding it from all sides, so the joint lies inside
    their convex hull: in each of 26 directions (a 45-degree cone), the ``per_direction``
    nearest vertices skinned (weight >= ``min_weight``) to the joint, its parent or a child.

    Args:
        template: (V, 3) rest vertices. joints: (J, 3) joint positions. weights: (V, J) skin
        weights. parents: (J,) parent indices.
    """
    dirs = _directions()
    out = []
    for j in range(len(joints)):
        family = [j] + ([int(parents[j])] if parents[j] >= 0 else [])
        family += [int(c) for c in np.flatnonzero(parents == j)]
        pool = np.flatnonzero(weights[:, family].max(axis=1) >= min_weight)
        offset = template[pool] - joints[j]
        dist = np.linalg.norm(offset, axis=1)
        cosine = (offset / np.maximum(dist, 1e-12)[:, None]) @ dirs.T  # (P, 26)
        chosen = set()
        for d in range(len(dirs)):
            in_cone = np.flatnonzero(cosine[:, d] > 0.7)
            chosen.update(pool[in_cone[np.argsort(dist[in_cone])[:per_direction]]].tolist())
        out.append(np.array(sorted(chosen), dtype=np.int64))
    return out


def sample_phenotypes(num: int, labels, seed: int, ranges: dict | None = None) -> np.ndarray:
    """(num, len(labels)) phenotypes, each uniform in its ``ranges[label]`` (default [0, 1],
    Anny's full range), seeded."""
    rng = np.random.default_rng(seed)
    unit = rng.uniform(0.0, 1.0, size=(num, len(labels)))
    lo = np.array([(ranges or {}).get(name, (0.0, 1.0))[0] for name in labels])
    hi = np.array([(ranges or {}).get(name, (0.0, 1.0))[1] for name in labels])
    return lo + (hi - lo) * unit


def sample_facial_actions(num: int, num_actions: int, seed: int, active: float = 0.3) -> np.ndarray:
    """(num, A) sparse random facial-action activations: each action is on with probability
    ``active`` at a uniform level in [0, 1] (seeded)."""
    rng = np.random.default_rng(seed)
    on = rng.uniform(size=(num, num_actions)) < active
    return on * rng.uniform(0.0, 1.0, size=(num, num_actions))

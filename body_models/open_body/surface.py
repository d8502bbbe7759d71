"""Surface queries on a mesh seen from the front (+Z): frontal ray hits and vertex anchors."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class SurfacePoint:
    """A point on a triangle: ``face`` index and barycentric coordinates ``bary`` (3,)."""

    face: int
    bary: np.ndarray

    def position(self, vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
        return self.bary @ vertices[faces[self.face]]


def front_hits(vertices, faces, points_xy, face_subset=None):
    """First triangle hit by rays travelling along -Z through (x, y) points.

    Args:
        vertices: (V, 3). faces: (F, 3). points_xy: (R, 2).
        face_subset: optional face indices to consider (default all).

    Returns:
        face (R,) int (-1 where nothing is hit), bary (R, 3), z (R,) (-inf where no hit).
    """
    subset = np.arange(len(faces)) if face_subset is None else np.asarray(face_subset)
    tri = vertices[faces[subset]]  # (S, 3, 3)
    a, b, c = tri[:, 0, :2], tri[:, 1, :2], tri[:, 2, :2]
    det = (b[:, 1] - c[:, 1]) * (a[:, 0] - c[:, 0]) + (c[:, 0] - b[:, 0]) * (a[:, 1] - c[:, 1])
    valid = np.abs(det) > 1e-14
    lo, hi = tri[:, :, :2].min(axis=1), tri[:, :, :2].max(axis=1)
    points_xy = np.asarray(points_xy, dtype=np.float64)
    out_face = np.full(len(points_xy), -1, dtype=np.int64)
    out_bary = np.zeros((len(points_xy), 3))
    out_z = np.full(len(points_xy), -np.inf)
    for r, (x, y) in enumerate(points_xy):
        cand = np.flatnonzero(
            valid & (lo[:, 0] <= x) & (hi[:, 0] >= x) & (lo[:, 1] <= y) & (hi[:, 1] >= y)
        )
        if len(cand) == 0:
            continue
        d = det[cand]
        l1 = (
            (b[cand, 1] - c[cand, 1]) * (x - c[cand, 0])
            + (c[cand, 0] - b[cand, 0]) * (y - c[cand, 1])
        ) / d
        l2 = (
            (c[cand, 1] - a[cand, 1]) * (x - c[cand, 0])
            + (a[cand, 0] - c[cand, 0]) * (y - c[cand, 1])
        ) / d
        l3 = 1.0 - l1 - l2
        inside = (l1 >= -1e-9) & (l2 >= -1e-9) & (l3 >= -1e-9)
        if not inside.any():
            continue
        cand, bary = cand[inside], np.stack([l1, l2, l3], axis=1)[inside]
        z = np.einsum("ri,ri->r", bary, tri[cand, :, 2])
        best = int(np.argmax(z))
        out_face[r], out_bary[r], out_z[r] = subset[cand[best]], bary[best], z[best]
    return out_face, out_bary, out_z


def vertex_point(vertex: int, faces: np.ndarray) -> SurfacePoint:
    """The surface point exactly at a vertex: a triangle containing it, one-hot barycentrics."""
    rows, cols = np.nonzero(faces == vertex)
    if len(rows) == 0:
        raise ValueError(f"vertex {vertex} belongs to no face")
    bary = np.zeros(3)
    bary[cols[0]] = 1.0
    return SurfacePoint(int(rows[0]), bary)


def front_point(vertices, faces, x, y, face_subset=None) -> SurfacePoint:
    """The frontmost surface point at (x, y); ValueError when the ray misses the mesh."""
    face, bary, _ = front_hits(vertices, faces, np.array([[x, y]]), face_subset)
    if face[0] < 0:
        raise ValueError(f"no surface in front of ({x:.4f}, {y:.4f})")
    return SurfacePoint(int(face[0]), bary[0])

"""A vectorised numpy z-buffer triangle rasterizer (headless, CPU, no GL).

Samples pixel centres (integer coordinates, as ``wholebody.camera``). Triangles are grouped by
bounding-box size, and every group is tested against its pixels at once with edge functions;
depth is interpolated as 1/z (exact under perspective for planar triangles), barycentrics are
perspective-corrected. Triangles with a vertex at z <= ``near`` are dropped (no clipping).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wholebody.camera import Camera

# Fragments tested per vectorised step (bounds memory to ~100 MB).
_CHUNK = 1 << 21


@dataclass(frozen=True, eq=False)
class Fragments:
    """Nearest surface per pixel.

    Attributes:
        depth: ``(H, W)`` camera z in metres, ``inf`` where no triangle covers the pixel.
        face: ``(H, W)`` triangle index, -1 on background.
        bary: ``(H, W, 3)`` perspective-correct barycentric weights of the face's vertices.
    """

    depth: np.ndarray
    face: np.ndarray
    bary: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        return self.face >= 0


def check_mesh(vertices, faces) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``(V, 3)`` finite vertices and ``(F, 3)`` integer faces indexing them."""
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces)
    if v.ndim != 2 or v.shape[1] != 3:
        raise ValueError(f"vertices: expected shape (V, 3), got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("vertices: expected finite values, got NaN/inf")
    if f.ndim != 2 or f.shape[1] != 3 or (f.size and f.dtype.kind not in "iu"):
        raise ValueError(f"faces: expected integer shape (F, 3), got {f.shape} {f.dtype}")
    if f.size and (f.min() < 0 or f.max() >= len(v)):
        raise ValueError(f"faces: expected indices in [0, {len(v)}), got [{f.min()}, {f.max()}]")
    return v, f.astype(np.int64)


def rasterize(vertices, faces, camera: Camera, near: float = 1e-3) -> Fragments:
    """Rasterize a mesh given in the OpenCV camera frame of ``camera`` (metres)."""
    v, f = check_mesh(vertices, faces)
    h, w = int(camera.height), int(camera.width)
    zbuf = np.full(h * w, np.inf)
    fbuf = np.full(h * w, -1, dtype=np.int64)
    bbuf = np.zeros((h * w, 3))
    z = v[:, 2]
    keep = np.all(z[f] > near, axis=1)
    f_ids = np.flatnonzero(keep)
    if f_ids.size:
        uv = np.zeros((len(v), 2))
        front = z > near
        uv[front] = camera.project(v[front])
        tri = uv[f[f_ids]]  # (F', 3, 2)
        tz = z[f[f_ids]]  # (F', 3)
        area = _edge(tri[:, 0], tri[:, 1], tri[:, 2])
        lo = np.maximum(np.ceil(tri.min(axis=1)), 0).astype(np.int64)
        hi = np.minimum(np.floor(tri.max(axis=1)), [w - 1, h - 1]).astype(np.int64)
        ok = (np.abs(area) > 1e-12) & np.all(hi >= lo, axis=1)
        tri, tz, area, lo, hi, f_ids = tri[ok], tz[ok], area[ok], lo[ok], hi[ok], f_ids[ok]
        # Bucket by power-of-two box size so each group is one dense (T, bh, bw) test.
        ext = hi - lo + 1
        bucket = np.ceil(np.log2(ext)).astype(np.int64)
        key = bucket[:, 0] * 64 + bucket[:, 1]
        for k in np.unique(key):
            sel = np.flatnonzero(key == k)
            bw, bh = 1 << int(k // 64), 1 << int(k % 64)
            step = max(1, _CHUNK // (bw * bh))
            for s in range(0, len(sel), step):
                i = sel[s : s + step]
                _raster_group(tri[i], tz[i], area[i], lo[i], hi[i], f_ids[i], bw, bh, w,
                              zbuf, fbuf, bbuf)  # fmt: skip
    return Fragments(zbuf.reshape(h, w), fbuf.reshape(h, w), bbuf.reshape(h, w, 3))


def _edge(a, b, p):
    """Twice the signed area of (a, b, p), ``(..., 2)`` inputs."""
    return (b[..., 0] - a[..., 0]) * (p[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (
        p[..., 0] - a[..., 0]
    )


def _raster_group(tri, tz, area, lo, hi, fid, bw, bh, width, zbuf, fbuf, bbuf) -> None:
    ox, oy = np.meshgrid(np.arange(bw, dtype=np.float64), np.arange(bh, dtype=np.float64))
    # Barycentric weights are affine in the pixel offset (ox, oy) from the box corner:
    # w_k = a_k ox + b_k oy + c_k, with w_k = edge(v_k+1, v_k+2, p) / area.
    corner = lo.astype(np.float64)
    w = []
    for k in range(2):
        a, b = tri[:, (k + 1) % 3], tri[:, (k + 2) % 3]
        ca = (a[:, 1] - b[:, 1]) / area  # d w / d x
        cb = (b[:, 0] - a[:, 0]) / area  # d w / d y
        c0 = _edge(a, b, corner) / area
        w.append(ca[:, None, None] * ox + cb[:, None, None] * oy + c0[:, None, None])
    w0, w1 = w
    w2 = 1.0 - w0 - w1
    eps = -1e-9
    inbox = (ox <= (hi - lo)[:, 0, None, None]) & (oy <= (hi - lo)[:, 1, None, None])
    inside = inbox & (w0 >= eps) & (w1 >= eps) & (w2 >= eps)
    tt, yy, xx = np.nonzero(inside)
    if tt.size == 0:
        return
    b = np.stack([w0[tt, yy, xx], w1[tt, yy, xx], w2[tt, yy, xx]], axis=-1) / tz[tt]
    inv_z = b.sum(axis=-1)
    depth = 1.0 / inv_z
    pix = (lo[tt, 1] + yy) * width + lo[tt, 0] + xx
    order = np.lexsort((depth, pix))  # nearest fragment first within each pixel
    pix, depth, tt, b, inv_z = pix[order], depth[order], tt[order], b[order], inv_z[order]
    first = np.ones(pix.size, dtype=bool)
    first[1:] = pix[1:] != pix[:-1]
    pix, depth, tt, b, inv_z = pix[first], depth[first], tt[first], b[first], inv_z[first]
    better = depth < zbuf[pix]
    pix = pix[better]
    zbuf[pix] = depth[better]
    fbuf[pix] = fid[tt[better]]
    bbuf[pix] = b[better] / inv_z[better, None]

"""Per-frame meshes out through trimesh (OBJ, PLY, GLB)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

MESH_FORMATS = ("obj", "ply", "glb")


def write_mesh(path: str | Path, vertices: np.ndarray, faces: np.ndarray) -> Path:
    """Write one mesh; the format follows the suffix (.obj, .ply, .glb).

    Args:
        path: output file.
        vertices: ``(V, 3)`` metres.
        faces: ``(F, 3)`` vertex indices.
    """
    import trimesh

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in MESH_FORMATS:
        raise ValueError(f"mesh file {path}: expected suffix in {MESH_FORMATS}, got {fmt!r}")
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if v.ndim != 2 or v.shape[1] != 3 or not np.all(np.isfinite(v)):
        raise ValueError(f"vertices: expected finite (V, 3), got shape {v.shape}")
    if f.ndim != 2 or f.shape[1] != 3 or (f.size and (f.min() < 0 or f.max() >= len(v))):
        raise ValueError(f"faces: expected (F, 3) indices into {len(v)} vertices, got {f.shape}")
    mesh = trimesh.Trimesh(vertices=v, faces=f, process=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)
    mesh.export(tmp, file_type=fmt)
    tmp.replace(path)
    return path


def read_mesh(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read vertices ``(V, 3)`` and faces ``(F, 3)`` back (vertex order kept)."""
    import trimesh

    mesh = trimesh.load(Path(path), process=False, force="mesh")
    return np.asarray(mesh.vertices), np.asarray(mesh.faces)


def write_frames(
    folder: str | Path, vertices: np.ndarray, faces: np.ndarray, frames, fmt: str = "obj"
) -> list[Path]:
    """Write ``frame_{t:05d}.{fmt}`` for each chosen frame of ``(T, V, 3)`` vertices."""
    if fmt not in MESH_FORMATS:
        raise ValueError(f"mesh format: expected one of {MESH_FORMATS}, got {fmt!r}")
    T = len(vertices)
    out = []
    for t in frames:
        if not 0 <= int(t) < T:
            raise ValueError(f"mesh frame: expected 0 <= t < {T}, got {t}")
        out.append(write_mesh(Path(folder) / f"frame_{int(t):05d}.{fmt}", vertices[t], faces))
    return out

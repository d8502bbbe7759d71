"""Read a skeleton animation back from a binary FBX (LimbNode models + Lcl curves).

Covers what :mod:`fbx_scene` writes and simple third-party files: LimbNode hierarchy from the
``OO`` connections, rest ``Lcl Translation``/``Lcl Rotation`` (``PreRotation`` is ignored),
``Lcl Rotation``/``Lcl Translation`` curves sampled at their keys (all curves must share key
times). Used by the tests as an independent re-parse of exported files.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from body_models.export.euler import euler_to_matrix
from body_models.export.fbx_binary import KTIME_PER_SECOND, Node, decode_fbx
from body_models.export.motion import Motion


def _props70(node: Node) -> dict[str, list]:
    p = node.find("Properties70")
    if p is None:
        return {}
    return {c.props[0][1]: [v for _, v in c.props[4:]] for c in p.children if c.name == "P"}


def fbx_euler_to_matrix(xyz_degrees: np.ndarray) -> np.ndarray:
    """(..., 3) FBX XYZ Euler degrees -> (..., 3, 3) = Rz @ Ry @ Rx."""
    return euler_to_matrix(np.radians(np.asarray(xyz_degrees))[..., ::-1], "ZYX")


def global_settings(nodes: list[Node]) -> dict[str, object]:
    gs = next((n for n in nodes if n.name == "GlobalSettings"), None)
    if gs is None:
        raise ValueError("FBX: missing GlobalSettings")
    return {k: (v[0] if len(v) == 1 else v) for k, v in _props70(gs).items()}


def fbx_to_motion(nodes: list[Node]) -> Motion:
    """Rebuild a :class:`Motion` from decoded FBX nodes (joints in hierarchy order)."""
    objects = next((n for n in nodes if n.name == "Objects"), None)
    conns = next((n for n in nodes if n.name == "Connections"), None)
    if objects is None or conns is None:
        raise ValueError("FBX: missing Objects or Connections")
    by_uid = {o.props[0][1]: o for o in objects.children if o.props}
    limbs = {u: o for u, o in by_uid.items() if o.name == "Model" and o.props[2][1] == "LimbNode"}
    parent_of: dict[int, int] = {}
    curve_nodes: dict[tuple[int, str], int] = {}
    curves: dict[tuple[int, str], int] = {}
    for c in conns.children:
        kind, child, parent = c.props[0][1], c.props[1][1], c.props[2][1]
        if kind == "OO" and child in limbs and (parent == 0 or parent in by_uid):
            if parent == 0 or by_uid[parent].name == "Model":  # not the Cluster links
                parent_of[child] = parent
        elif kind == "OP" and by_uid.get(child) is not None:
            prop = c.props[3][1]
            if by_uid[child].name == "AnimationCurveNode":
                curve_nodes[(parent, prop)] = child
            elif by_uid[child].name == "AnimationCurve":
                curves[(parent, prop)] = child
    if not limbs:
        raise ValueError("FBX: no LimbNode models")
    roots = [u for u in limbs if parent_of.get(u) not in limbs]
    if len(roots) != 1:
        raise ValueError(f"FBX: expected one LimbNode root, got {len(roots)}")
    order: list[int] = []
    stack = roots[:]
    children: dict[int, list[int]] = {}
    for u in limbs:  # keep file order among siblings
        children.setdefault(parent_of.get(u, 0), []).append(u)
    while stack:
        u = stack.pop()
        order.append(u)
        stack.extend(reversed(children.get(u, [])))
    index = {u: i for i, u in enumerate(order)}

    def sample(model_uid: int, prop: str):
        cn = curve_nodes.get((model_uid, prop))
        if cn is None:
            return None, None
        cols, times = [], None
        for ax in "XYZ":
            cu = curves.get((cn, f"d|{ax}"))
            if cu is None:
                cols.append(None)
                continue
            curve = by_uid[cu]
            t = curve.find("KeyTime").props[0][1]
            v = curve.find("KeyValueFloat").props[0][1].astype(np.float64)
            if times is not None and not np.array_equal(times, t):
                raise ValueError("FBX: curves with different key times are not supported")
            times = t
            cols.append(v)
        return times, cols

    rest_t, rest_r, anim = [], [], {}
    times = None
    for u in order:
        p = _props70(limbs[u])
        rest_t.append(np.array(p.get("Lcl Translation", [0.0, 0.0, 0.0]), dtype=np.float64))
        rest_r.append(np.array(p.get("Lcl Rotation", [0.0, 0.0, 0.0]), dtype=np.float64))
        for prop in ("Lcl Rotation", "Lcl Translation"):
            t, cols = sample(u, prop)
            if t is not None:
                times = t if times is None else times
                anim[(u, prop)] = cols
    if times is None:
        times = np.zeros(1, dtype=np.int64)
    T, J = len(times), len(order)
    euler = np.broadcast_to(np.stack(rest_r), (T, J, 3)).copy()
    positions = {}
    for (u, prop), cols in anim.items():
        j = index[u]
        if prop == "Lcl Rotation":
            for k, c in enumerate(cols):
                if c is not None:
                    euler[:, j, k] = c
        else:
            pos = np.tile(rest_t[j], (T, 1))
            for k, c in enumerate(cols):
                if c is not None:
                    pos[:, k] = c
            positions[j] = pos
    dt = float(times[1] - times[0]) / KTIME_PER_SECOND if T > 1 else 1.0 / 30.0
    names = tuple(limbs[u].props[1][1].split("\x00\x01")[0] for u in order)
    return Motion(
        names=names,
        parents=tuple(index.get(parent_of.get(u), -1) for u in order),
        offsets=np.stack(rest_t),
        rotations=fbx_euler_to_matrix(euler),
        positions=positions,
        frame_time=dt,
    )


def read_fbx_motion(path: str | os.PathLike) -> tuple[Motion, dict[str, object]]:
    """Read a binary FBX file -> (motion, GlobalSettings properties)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"FBX file {str(p)!r} does not exist")
    _, nodes = decode_fbx(p.read_bytes())
    return fbx_to_motion(nodes), global_settings(nodes)

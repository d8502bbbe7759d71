"""BVH writer for any :class:`Motion` (fast, vectorised, atomic).

Layout written (Blender-, assimp- and MotionBuilder-readable): ``HIERARCHY``, one ``ROOT``,
nested ``JOINT`` blocks with the brace on its own line, ``OFFSET`` then ``CHANNELS``; joints
with position channels get ``Xposition Yposition Zposition`` first, then the three rotation
channels in ``order`` (``"ZXY"`` -> ``Zrotation Xrotation Yrotation`` = Rz @ Rx @ Ry, degrees).
Leaves get an ``End Site``. ``Frame Time`` is written with 10 significant digits so
1/30 s reads back as 30 fps, not 30.0003. Units are whatever the motion's offsets use.
"""

from __future__ import annotations

import os

import numpy as np

from body_models.export.atomic import atomic_open
from body_models.export.euler import ORDERS as EULER_ORDERS
from body_models.export.euler import matrix_to_euler
from body_models.export.motion import Motion, depth_first_order

POSITION_CHANNELS = ("Xposition", "Yposition", "Zposition")


def rotation_channels(order: str) -> tuple[str, str, str]:
    order = order.upper()
    if order not in EULER_ORDERS:
        raise ValueError(f"order: expected one of {EULER_ORDERS}, got {order!r}")
    return tuple(f"{axis}rotation" for axis in order)


def _vec(v, decimals: int) -> str:
    return " ".join(f"{x:.{decimals}f}" for x in np.asarray(v, dtype=np.float64))


def _default_end_site(motion: Motion, j: int) -> np.ndarray:
    """A leaf's tip when none is given: half the leaf bone, continuing its direction."""
    off = motion.offsets[j]
    return 0.5 * off if np.linalg.norm(off) > 0 else np.zeros(3)


def hierarchy_text(motion: Motion, order: str = "ZXY", decimals: int = 6) -> str:
    """The ``HIERARCHY`` section (ends with a newline)."""
    rot_ch = rotation_channels(order)
    children: dict[int, list[int]] = {}
    for j, p in enumerate(motion.parents):
        children.setdefault(p, []).append(j)
    lines = ["HIERARCHY"]

    def emit(j: int, depth: int) -> None:
        ind = "\t" * depth
        keyword = "ROOT" if j == 0 else "JOINT"
        lines.append(f"{ind}{keyword} {motion.names[j]}")
        lines.append(f"{ind}{{")
        lines.append(f"{ind}\tOFFSET {_vec(motion.offsets[j], decimals)}")
        chans = (POSITION_CHANNELS if j in motion.positions else ()) + rot_ch
        lines.append(f"{ind}\tCHANNELS {len(chans)} {' '.join(chans)}")
        kids = children.get(j, [])
        for c in kids:
            emit(c, depth + 1)
        if not kids:
            end = motion.end_sites.get(j, _default_end_site(motion, j))
            lines.extend(
                [f"{ind}\tEnd Site", f"{ind}\t{{", f"{ind}\t\tOFFSET {_vec(end, decimals)}"]
            )
            lines.append(f"{ind}\t}}")
        lines.append(f"{ind}}}")

    for name in motion.names:
        if any(ch.isspace() for ch in name) or not name:
            raise ValueError(f"joint names must be non-empty without spaces, got {name!r}")
    emit(0, 0)
    return "\n".join(lines) + "\n"


def motion_channels(motion: Motion, order: str = "ZXY") -> tuple[np.ndarray, np.ndarray]:
    """(T, C) channel values in file order (positions in units, Euler angles in degrees) and
    a (C,) mask that is True for position channels."""
    order = order.upper()
    rotation_channels(order)
    dfs = depth_first_order(motion.parents)
    euler = np.degrees(matrix_to_euler(motion.rotations[:, dfs], order))  # (T, J, 3)
    cols, is_pos = [], []
    for k, j in enumerate(dfs):
        if j in motion.positions:
            cols.append(motion.positions[j])
            is_pos += [True] * 3
        cols.append(euler[:, k])
        is_pos += [False] * 3
    return np.concatenate(cols, axis=1), np.array(is_pos)


def motion_text_lines(values: np.ndarray, decimals) -> str:
    """Format (T, C) values as T lines of C numbers, newline-terminated.

    ``decimals``: one int, or (C,) ints, the ``%.{d}f`` precision of each column.
    """
    T, C = values.shape
    if T == 0:
        return ""
    decs = np.broadcast_to(np.asarray(decimals, dtype=int), (C,))
    # values that would print as "-0.000000" print as "0.000000" (diff-friendly files)
    values = np.where((values < 0) & (values > -0.5 * 10.0 ** -decs.astype(float)), 0.0, values)
    row = " ".join(f"%.{d}f" for d in decs)
    return "\n".join([row % tuple(r) for r in values.tolist()]) + "\n"


def bvh_text(motion: Motion, order: str = "ZXY", decimals: int = 6) -> str:
    """The full BVH file as a string.

    Angles get ``decimals`` decimals (degrees); offsets and positions ``decimals + 2`` (units),
    so a metre-unit file reads back with joint positions exact to 1e-6 m.
    """
    if motion.num_frames == 0:
        raise ValueError("motion: expected at least one frame, got 0")
    values, is_pos = motion_channels(motion, order)
    header = (
        hierarchy_text(motion, order, decimals + 2)
        + f"MOTION\nFrames: {motion.num_frames}\nFrame Time: {motion.frame_time:.10g}\n"
    )
    return header + motion_text_lines(values, np.where(is_pos, decimals + 2, decimals))


def write_bvh(
    path: str | os.PathLike, motion: Motion, order: str = "ZXY", decimals: int = 6
) -> None:
    """Write ``motion`` as BVH; the file appears only when complete (atomic replace)."""
    text = bvh_text(motion, order, decimals)
    with atomic_open(path, "w") as fh:
        fh.write(text)

"""Tolerant BVH reader: any channel order, tabs/spaces, braces anywhere, real-world files.

Accepted deviations (seen in CMU/cgspeed, Blender and hand-edited files): braces on the
keyword's line, ``Frame Time: .0083333``, trailing whitespace, CRLF, blank lines, position
channels on non-root joints, a ``Frames:`` count that disagrees with the data (the data wins,
with a logged warning). Errors are ``ValueError`` naming the line number.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from body_models.export.euler import euler_to_matrix
from body_models.export.motion import Motion

logger = logging.getLogger(__name__)

_AXES = {"x": 0, "y": 1, "z": 2}


@dataclass(frozen=True)
class _Joint:
    name: str
    parent: int
    offset: np.ndarray
    channels: tuple[str, ...]
    line: int


def _err(source: str, line: int, message: str) -> ValueError:
    return ValueError(f"{source}: line {line}: {message}")


def _tokens(lines: list[str], start: int, stop: int):
    """Yield (token, line number) for lines[start:stop], splitting braces off words."""
    for i in range(start, stop):
        for tok in lines[i].replace("{", " { ").replace("}", " } ").split():
            yield tok, i + 1


def _parse_hierarchy(lines: list[str], stop: int, source: str):
    joints: list[_Joint] = []
    end_sites: dict[int, np.ndarray] = {}
    toks = list(_tokens(lines, 0, stop))
    if not toks or toks[0][0].upper() != "HIERARCHY":
        raise ValueError(f"{source}: line 1: expected 'HIERARCHY' as the first word")
    pos = 1
    stack: list[int] = []  # joint index per open brace; -2 marks an End Site block

    def take(what: str) -> tuple[str, int]:
        nonlocal pos
        if pos >= len(toks):
            last = toks[-1][1] if toks else 1
            raise _err(source, last, f"unexpected end of HIERARCHY, expected {what}")
        tok = toks[pos]
        pos += 1
        return tok

    def numbers(n: int, what: str, line: int) -> np.ndarray:
        vals = []
        for _ in range(n):
            tok, ln = take(what)
            try:
                vals.append(float(tok))
            except ValueError:
                raise ValueError(
                    f"{source}: line {ln}: {what}: expected a number, got {tok!r}"
                ) from None
        arr = np.array(vals)
        if not np.all(np.isfinite(arr)):
            raise _err(source, line, f"{what}: expected finite numbers, got {vals}")
        return arr

    def open_brace(owner: str, line: int) -> None:
        tok, ln = take("'{'")
        if tok != "{":
            raise ValueError(
                f"{source}: line {ln}: expected '{{' after {owner} (line {line}), got {tok!r}"
            )

    while pos < len(toks):
        tok, ln = take("a joint")
        key = tok.upper()
        if key in ("ROOT", "JOINT"):
            if key == "ROOT" and (joints or stack):
                raise _err(source, ln, "only one ROOT is supported")
            if key == "JOINT" and not stack:
                raise ValueError(
                    f"{source}: line {ln}: JOINT outside of a ROOT block (missing '{{'?)"
                )
            if stack and stack[-1] == -2:
                raise _err(source, ln, "JOINT inside an End Site (missing '}'?)")
            name, _ = take("a joint name")
            # names with spaces: join the words up to the brace (Blender uses '_')
            while pos < len(toks) and toks[pos][0] != "{" and toks[pos][1] == ln:
                name += "_" + take("a joint name")[0]
            open_brace(f"{key} {name}", ln)
            tok2, ln2 = take("OFFSET")
            if tok2.upper() != "OFFSET":
                raise ValueError(
                    f"{source}: line {ln2}: expected OFFSET in joint {name!r}, got {tok2!r}"
                )
            offset = numbers(3, f"OFFSET of {name!r}", ln2)
            tok3, ln3 = take("CHANNELS")
            if tok3.upper() != "CHANNELS":
                raise ValueError(
                    f"{source}: line {ln3}: expected CHANNELS in joint {name!r}, got {tok3!r}"
                )
            count_tok, _ = take("a channel count")
            try:
                count = int(count_tok)
            except ValueError:
                raise ValueError(
                    f"{source}: line {ln3}: expected a channel count, got {count_tok!r}"
                ) from None
            chans = []
            while pos < len(toks) and toks[pos][1] == ln3 and toks[pos][0] not in "{}":
                chans.append(take("a channel")[0])
            if len(chans) != count:
                raise ValueError(
                    f"{source}: line {ln3}: CHANNELS of {name!r} declares {count} channels "
                    f"but lists {len(chans)}: {chans}"
                )
            norm = []
            for ch in chans:
                low = ch.lower()
                if len(low) < 9 or low[0] not in _AXES or low[1:] not in ("position", "rotation"):
                    raise ValueError(
                        f"{source}: line {ln3}: unknown channel {ch!r} in joint {name!r}"
                    )
                norm.append(low)
            parent = stack[-1] if stack else -1
            joints.append(_Joint(name, parent, offset, tuple(norm), ln))
            stack.append(len(joints) - 1)
        elif key == "END":
            site, ln_site = take("'Site'")
            if site.upper() != "SITE":
                raise _err(source, ln_site, f"expected 'End Site', got 'End {site}'")
            if not stack or stack[-1] < 0:
                raise _err(source, ln, "End Site outside of a joint")
            owner = stack[-1]
            open_brace("End Site", ln)
            tok2, ln2 = take("OFFSET")
            if tok2.upper() != "OFFSET":
                raise _err(source, ln2, f"expected OFFSET in End Site, got {tok2!r}")
            end_sites[owner] = numbers(3, "End Site OFFSET", ln2)
            stack.append(-2)
        elif key == "}":
            if not stack:
                raise _err(source, ln, "unmatched '}'")
            stack.pop()
        else:
            raise _err(source, ln, f"unexpected {tok!r} in HIERARCHY")
    if stack:
        open_joint = next((joints[j] for j in reversed(stack) if j >= 0), None)
        where = (
            f"joint {open_joint.name!r} opened at line {open_joint.line}"
            if open_joint
            else "End Site"
        )
        raise _err(source, stop + 1, f"missing '}}' for {where} before MOTION")
    if not joints:
        raise _err(source, stop + 1, "HIERARCHY has no ROOT joint")
    return joints, end_sites


def _header_value(line: str, key: str, lineno: int, source: str) -> str:
    if not line.strip().lower().startswith(key.lower()):
        raise _err(source, lineno, f"expected '{key}', got {line.strip()!r}")
    return line.strip()[len(key) :].strip()


def _parse_motion(lines: list[str], start: int, n_channels: int, source: str):
    """Returns (values (T, C), frame_time); ``start`` is the index of the MOTION line."""
    i = start + 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines):
        raise _err(source, start + 1, "MOTION section is empty (no 'Frames:')")
    frames_txt = _header_value(lines[i], "Frames:", i + 1, source)
    try:
        declared = int(frames_txt)
    except ValueError:
        raise ValueError(
            f"{source}: line {i + 1}: expected an integer frame count, got {frames_txt!r}"
        ) from None
    i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines):
        raise _err(source, i, "missing 'Frame Time:' after 'Frames:'")
    ft_txt = _header_value(lines[i], "Frame Time:", i + 1, source)
    try:
        frame_time = float(ft_txt)
    except ValueError:
        raise ValueError(
            f"{source}: line {i + 1}: expected a number for Frame Time, got {ft_txt!r}"
        ) from None
    if not (np.isfinite(frame_time) and frame_time > 0):
        raise _err(source, i + 1, f"Frame Time must be positive, got {frame_time}")
    first = i + 1
    rows = [(n + 1, ln.split()) for n, ln in enumerate(lines[first:], start=first) if ln.strip()]
    if not rows:
        raise ValueError(
            f"{source}: line {i + 1}: MOTION section has no frame data (Frames: {declared})"
        )
    for lineno, toks in rows:
        if len(toks) != n_channels:
            raise ValueError(
                f"{source}: line {lineno}: expected {n_channels} values (the channels declared "
                f"in HIERARCHY), got {len(toks)}"
            )
    flat = [t for _, toks in rows for t in toks]
    try:
        values = np.array(flat, dtype=np.float64).reshape(len(rows), n_channels)
    except ValueError:
        for lineno, toks in rows:
            for t in toks:
                try:
                    float(t)
                except ValueError:
                    raise ValueError(
                        f"{source}: line {lineno}: expected a number, got {t!r}"
                    ) from None
        raise
    bad = ~np.isfinite(values)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise _err(source, rows[r][0], f"value {c + 1} is {values[r, c]} (NaN/inf)")
    if declared != len(rows):
        logger.warning(
            "%s: header says Frames: %d but the file holds %d frames; using %d",
            source, declared, len(rows), len(rows),
        )  # fmt: skip
    return values, frame_time


def parse_bvh(text: str, source: str = "<bvh>") -> Motion:
    """Parse BVH text into a :class:`Motion` (joints in file order, offsets in file units)."""
    lines = text.splitlines()
    motion_at = next((i for i, ln in enumerate(lines) if ln.strip().upper() == "MOTION"), None)
    if motion_at is None:
        raise _err(source, len(lines), "no MOTION section")
    joints, end_sites = _parse_hierarchy(lines, motion_at, source)
    n_channels = sum(len(j.channels) for j in joints)
    values, frame_time = _parse_motion(lines, motion_at, n_channels, source)
    T, J = values.shape[0], len(joints)
    rotations = np.broadcast_to(np.eye(3), (T, J, 3, 3)).copy()
    positions: dict[int, np.ndarray] = {}
    col = 0
    for j, joint in enumerate(joints):
        rot_cols, rot_axes, pos = [], "", None
        for ch in joint.channels:
            axis = _AXES[ch[0]]
            if ch.endswith("position"):
                if pos is None:
                    pos = joint.offset.copy() * np.ones((T, 1))
                pos[:, axis] = values[:, col]
            else:
                rot_cols.append(col)
                rot_axes += ch[0].upper()
            col += 1
        if pos is not None:
            positions[j] = pos
        if rot_axes:
            ang = np.radians(values[:, rot_cols])
            if len(rot_axes) == 3 and len(set(rot_axes)) == 3:
                rotations[:, j] = euler_to_matrix(ang, rot_axes)
            else:  # partial or repeated axes: chain elementary rotations in listed order
                for k, ax in enumerate(rot_axes):
                    vec = np.zeros((T, 3))
                    vec[:, _AXES[ax.lower()]] = ang[:, k]
                    rotations[:, j] = rotations[:, j] @ euler_to_matrix(vec, "XYZ")
    return Motion(
        names=tuple(j.name for j in joints),
        parents=tuple(j.parent for j in joints),
        offsets=np.stack([j.offset for j in joints]),
        rotations=rotations,
        positions=positions,
        frame_time=frame_time,
        end_sites=end_sites,
    )


def read_bvh(path: str | os.PathLike) -> Motion:
    """Read a BVH file (see :func:`parse_bvh`)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"BVH file {str(p)!r} does not exist")
    return parse_bvh(p.read_text(encoding="utf-8", errors="replace"), source=str(p))

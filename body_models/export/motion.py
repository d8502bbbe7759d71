"""A skeleton motion: joint hierarchy, rest offsets, per-frame local rotations, forward kinematics.

The layout follows BVH semantics: every joint's rest frame is parallel to the world axes, a
joint's rest position relative to its parent is ``offsets[j]`` (in the parent's frame), and a
frame stores one local rotation per joint plus local translations for the joints that carry
position channels (the root always does; its translation is its absolute position, as in BVH).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


def _as_float(x, shape_tail: tuple[int, ...], name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim < len(shape_tail) or arr.shape[arr.ndim - len(shape_tail) :] != shape_tail:
        tail = ", ".join(str(s) for s in shape_tail)
        raise ValueError(f"{name}: expected shape (..., {tail}), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0].tolist()
        raise ValueError(f"{name}: expected finite values, got NaN/inf at index {bad}")
    return arr


@dataclass(frozen=True, eq=False)
class Motion:
    """Joint hierarchy plus animation.

    Attributes:
        names: J joint names, parents before children.
        parents: J parent indices, -1 for the single root (index 0).
        offsets: (J, 3) rest offset of each joint from its parent (root: rest position).
        rotations: (T, J, 3, 3) local rotation matrices (column vectors, parent <- joint).
        positions: joint index -> (T, 3) local translation channels; always holds the root.
        frame_time: seconds per frame.
        end_sites: joint index -> (3,) End Site offset (leaf tips), optional.
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray
    rotations: np.ndarray
    positions: dict[int, np.ndarray]
    frame_time: float
    end_sites: dict[int, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names, parents = tuple(self.names), tuple(int(p) for p in self.parents)
        J = len(names)
        if len(parents) != J or J == 0:
            raise ValueError(f"parents: expected {J} entries (one per name), got {len(parents)}")
        if parents[0] != -1 or any(not (0 <= p < j) for j, p in enumerate(parents) if j):
            raise ValueError(
                f"parents: expected root first and parents before children, got {parents}"
            )
        if len(set(names)) != J:
            raise ValueError("names: expected unique joint names")
        offsets = _as_float(self.offsets, (3,), "offsets")
        if offsets.shape != (J, 3):
            raise ValueError(f"offsets: expected shape ({J}, 3), got {offsets.shape}")
        rot = _as_float(self.rotations, (3, 3), "rotations")
        if rot.ndim != 4 or rot.shape[1] != J:
            raise ValueError(f"rotations: expected shape (T, {J}, 3, 3), got {rot.shape}")
        T = rot.shape[0]
        positions = {}
        for j, p in dict(self.positions).items():
            p = _as_float(p, (3,), f"positions[{j}]")
            if p.shape != (T, 3) or not 0 <= int(j) < J:
                raise ValueError(f"positions[{j}]: expected shape ({T}, 3), got {p.shape}")
            positions[int(j)] = p
        if 0 not in positions:
            positions[0] = np.broadcast_to(offsets[0], (T, 3)).copy()
        if not (np.isfinite(self.frame_time) and self.frame_time > 0):
            raise ValueError(f"frame_time: expected a positive number, got {self.frame_time}")
        ends = {int(j): _as_float(v, (3,), f"end_sites[{j}]") for j, v in self.end_sites.items()}
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "parents", parents)
        object.__setattr__(self, "offsets", offsets)
        object.__setattr__(self, "rotations", rot)
        object.__setattr__(self, "positions", dict(sorted(positions.items())))
        object.__setattr__(self, "frame_time", float(self.frame_time))
        object.__setattr__(self, "end_sites", ends)

    @property
    def num_frames(self) -> int:
        return self.rotations.shape[0]

    @property
    def num_joints(self) -> int:
        return len(self.names)

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(f"joint {name!r} not in skeleton {list(self.names)}") from None

    def children(self, j: int) -> list[int]:
        return [c for c, p in enumerate(self.parents) if p == j]

    def local_translations(self) -> np.ndarray:
        """(T, J, 3) per-frame local translations (offsets unless a joint has positions)."""
        trans = np.broadcast_to(self.offsets, (self.num_frames, self.num_joints, 3)).copy()
        for j, p in self.positions.items():
            trans[:, j] = p
        return trans

    def forward_kinematics(self) -> tuple[np.ndarray, np.ndarray]:
        """World joint positions (T, J, 3) and world rotations (T, J, 3, 3)."""
        return forward_kinematics(self.parents, self.local_translations(), self.rotations)

    def rest_positions(self) -> np.ndarray:
        """(J, 3) world joint positions with all rotations identity and offsets as translations."""
        pos = np.zeros((self.num_joints, 3))
        pos[0] = self.offsets[0]
        for j in range(1, self.num_joints):
            pos[j] = pos[self.parents[j]] + self.offsets[j]
        return pos

    def transformed(self, basis=None, scale: float = 1.0) -> Motion:
        """The same motion seen in another world frame: x' = scale * basis @ x.

        ``basis`` is a (3, 3) rotation. Offsets and translations rotate and scale, every local
        rotation is conjugated (basis R basis^T), so the rest pose stays axis-aligned and
        world positions transform exactly.
        """
        C = np.eye(3) if basis is None else _as_float(basis, (3, 3), "basis")
        if not np.allclose(C @ C.T, np.eye(3), atol=1e-9) or np.linalg.det(C) < 0:
            raise ValueError(f"basis: expected a (3, 3) rotation matrix, got {C.tolist()}")
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"scale: expected a positive number, got {scale}")
        return replace(
            self,
            offsets=scale * self.offsets @ C.T,
            rotations=C @ self.rotations @ C.T,
            positions={j: scale * p @ C.T for j, p in self.positions.items()},
            end_sites={j: scale * C @ v for j, v in self.end_sites.items()},
        )

    def subset(self, keep: list[str] | tuple[str, ...]) -> Motion:
        """Keep the named joints (and the root); only whole subtrees (e.g. fingers) may go.

        Every kept joint's parent must be kept.
        """
        keep_set = set(keep) | {self.names[0]}
        idx = [j for j, n in enumerate(self.names) if n in keep_set]
        missing = sorted(keep_set - set(self.names))
        if missing:
            raise ValueError(f"subset: joints {missing} not in skeleton")
        remap = {old: new for new, old in enumerate(idx)}
        for j in idx[1:]:
            if self.parents[j] not in remap:
                raise ValueError(
                    f"subset: joint {self.names[j]!r} kept but its parent "
                    f"{self.names[self.parents[j]]!r} dropped"
                )
        return Motion(
            names=tuple(self.names[j] for j in idx),
            parents=tuple(-1 if j == idx[0] else remap[self.parents[j]] for j in idx),
            offsets=self.offsets[idx],
            rotations=self.rotations[:, idx],
            positions={remap[j]: p for j, p in self.positions.items() if j in remap},
            frame_time=self.frame_time,
            end_sites={remap[j]: v for j, v in self.end_sites.items() if j in remap},
        )

    def renamed(self, mapping: dict[str, str]) -> Motion:
        """Rename joints through ``mapping`` (names not in it stay)."""
        return replace(self, names=tuple(mapping.get(n, n) for n in self.names))


def forward_kinematics(
    parents, local_translations, local_rotations
) -> tuple[np.ndarray, np.ndarray]:
    """Chain local transforms: G_j = G_p R_j, p_j = p_p + G_p t_j.

    Args:
        parents: J parent indices (parents before children, root -1).
        local_translations: (T, J, 3).
        local_rotations: (T, J, 3, 3).

    Returns:
        world positions (T, J, 3), world rotations (T, J, 3, 3).
    """
    t = np.asarray(local_translations, dtype=np.float64)
    R = np.asarray(local_rotations, dtype=np.float64)
    pos = np.empty_like(t)
    rot = np.empty_like(R)
    pos[:, 0], rot[:, 0] = t[:, 0], R[:, 0]
    for j in range(1, len(parents)):
        p = parents[j]
        pos[:, j] = pos[:, p] + np.einsum("tab,tb->ta", rot[:, p], t[:, j])
        rot[:, j] = rot[:, p] @ R[:, j]
    return pos, rot


def depth_first_order(parents) -> list[int]:
    """Joint indices in BVH (pre-order depth-first) order, children in index order."""
    children: dict[int, list[int]] = {}
    for j, p in enumerate(parents):
        children.setdefault(int(p), []).append(j)
    order, stack = [], list(reversed(children.get(-1, [])))
    while stack:
        j = stack.pop()
        order.append(j)
        stack.extend(reversed(children.get(j, [])))
    return order


@dataclass(frozen=True, eq=False)
class SkinnedMesh:
    """A rest-pose triangle mesh in the motion's world frame and units.

    Attributes:
        vertices: (V, 3) rest vertices (same frame as the motion's rest skeleton).
        faces: (F, 3) triangle vertex indices.
        weights: (V, J) skinning weights over the motion's joints (rows sum to 1).
    """

    vertices: np.ndarray
    faces: np.ndarray
    weights: np.ndarray

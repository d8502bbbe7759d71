"""The `KeypointSet` record: names, parts, flip pairs, links, sigmas and parents.

Pure numpy; importable without torch. Every set is a frozen object built once at import.
Parts and flip pairs are derived from names (``left_*`` <-> ``right_*``); sets whose names
cannot give a pair (the face contour of COCO-WholeBody) pass explicit pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

PART_NAMES = ("body", "foot", "face", "left_hand", "right_hand")

_HAND_WORDS = ("thumb", "forefinger", "index", "middle", "ring", "pinky", "hand_root")
_FOOT_WORDS = ("toe", "heel", "foot")
_FACE_PREFIXES = ("face-", "jaw", "left_eye_smplhf", "right_eye_smplhf")

# Link colours (RGB) by side, as MMPose's COCO-WholeBody dataset card paints them.
SIDE_COLOURS = {"left": (0, 255, 0), "right": (255, 128, 0), "centre": (51, 153, 255)}


def part_of(name: str) -> str:
    """Anatomical part of a keypoint name: body, foot, face, left_hand or right_hand."""
    if name.startswith(_FACE_PREFIXES):
        return "face"
    if any(word in name for word in _HAND_WORDS):
        if name.startswith("left_"):
            return "left_hand"
        if name.startswith("right_"):
            return "right_hand"
    if any(word in name for word in _FOOT_WORDS):
        return "foot"
    return "body"


def side_of(name: str) -> str:
    """'left', 'right' or 'centre' from a name's prefix."""
    if name.startswith("left_"):
        return "left"
    if name.startswith("right_"):
        return "right"
    return "centre"


def mirror_name(name: str) -> str:
    """The name a keypoint gets after a horizontal flip (left <-> right), else itself."""
    return re.sub(r"^(left|right)_", lambda m: "right_" if m.group(1) == "left" else "left_", name)


@dataclass(frozen=True, eq=False)
class KeypointSet:
    """An ordered keypoint layout.

    Attributes:
        name: registry name, e.g. ``"coco_wholebody"``.
        names: keypoint names in array order, unique.
        links: drawing links as index pairs.
        link_colours: one RGB triple per link.
        sigmas: OKS sigmas ``(J,)`` where the protocol defines them, else ``None``.
        parents: kinematic parent index per joint (``-1`` for the root), or ``None``.
        root: name of the root joint for root-relative 3D, or ``None``.
        extra_flip_pairs: index pairs that names cannot give (e.g. face contour points).
    """

    name: str
    names: tuple[str, ...]
    links: tuple[tuple[int, int], ...] = ()
    link_colours: tuple[tuple[int, int, int], ...] = ()
    sigmas: np.ndarray | None = None
    parents: tuple[int, ...] | None = None
    root: str | None = None
    extra_flip_pairs: tuple[tuple[int, int], ...] = ()
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        num = len(self.names)
        if len(set(self.names)) != num:
            dup = sorted({n for n in self.names if self.names.count(n) > 1})
            raise ValueError(f"{self.name}: keypoint names must be unique, repeated: {dup}")
        object.__setattr__(self, "_index", {n: i for i, n in enumerate(self.names)})
        for a, b in self.links:
            if not (0 <= a < num and 0 <= b < num):
                raise ValueError(f"{self.name}: link ({a}, {b}) outside 0..{num - 1}")
        if self.link_colours and len(self.link_colours) != len(self.links):
            raise ValueError(
                f"{self.name}: expected {len(self.links)} link colours, "
                f"got {len(self.link_colours)}"
            )
        if self.sigmas is not None:
            sigmas = np.asarray(self.sigmas, dtype=np.float64)
            sigmas.setflags(write=False)
            if sigmas.shape != (num,):
                raise ValueError(f"{self.name}: sigmas expected shape ({num},), got {sigmas.shape}")
            object.__setattr__(self, "sigmas", sigmas)
        if self.parents is not None and len(self.parents) != num:
            raise ValueError(f"{self.name}: expected {num} parents, got {len(self.parents)}")
        if self.root is not None and self.root not in self._index:
            raise ValueError(f"{self.name}: root {self.root!r} is not a keypoint name")

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return f"KeypointSet({self.name!r}, {len(self)} keypoints)"

    @property
    def num_keypoints(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        """Index of one keypoint name; ValueError naming the set if unknown."""
        try:
            return self._index[name]
        except KeyError:
            raise ValueError(f"{self.name} has no keypoint {name!r}") from None

    def indices(self, names) -> np.ndarray:
        """Indices ``(K,)`` of several names, in the given order."""
        return np.array([self.index(n) for n in names], dtype=np.int64)

    def __contains__(self, name: str) -> bool:
        return name in self._index

    @property
    def parts(self) -> dict[str, np.ndarray]:
        """Part name -> indices, derived from the names; empty parts are omitted."""
        groups: dict[str, list[int]] = {p: [] for p in PART_NAMES}
        for i, n in enumerate(self.names):
            groups[part_of(n)].append(i)
        return {p: np.array(ix, dtype=np.int64) for p, ix in groups.items() if ix}

    def part(self, part: str) -> np.ndarray:
        """Indices of one part; ValueError listing the parts this set has."""
        parts = self.parts
        if part not in parts:
            raise ValueError(f"{self.name}: unknown part {part!r}, expected one of {list(parts)}")
        return parts[part]

    @property
    def flip_pairs(self) -> tuple[tuple[int, int], ...]:
        """Index pairs swapped by a horizontal flip: name-derived pairs plus explicit ones."""
        pairs = []
        for i, n in enumerate(self.names):
            m = mirror_name(n)
            if m != n and m in self._index and i < self._index[m]:
                pairs.append((i, self._index[m]))
        pairs.extend(tuple(p) for p in self.extra_flip_pairs)
        return tuple(sorted(pairs))

    @property
    def flip_indices(self) -> np.ndarray:
        """``(J,)`` entry i = the index keypoint i becomes after a horizontal flip."""
        perm = np.arange(len(self), dtype=np.int64)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm

    def link_names(self) -> list[tuple[str, str]]:
        return [(self.names[a], self.names[b]) for a, b in self.links]


def side_link_colours(names, links) -> tuple[tuple[int, int, int], ...]:
    """Colour links by side: left, right or centre (mixed sides count as centre)."""
    colours = []
    for a, b in links:
        sa, sb = side_of(names[a]), side_of(names[b])
        colours.append(SIDE_COLOURS[sa if sa == sb else "centre"])
    return tuple(colours)


def links_by_name(names, pairs) -> tuple[tuple[int, int], ...]:
    """Index links from name pairs, so link tables stay readable."""
    index = {n: i for i, n in enumerate(names)}
    return tuple((index[a], index[b]) for a, b in pairs)


def parents_by_name(names, parent_of: dict[str, str | None]) -> tuple[int, ...]:
    """Parent indices from a name -> parent-name mapping (``None`` = root)."""
    index = {n: i for i, n in enumerate(names)}
    return tuple(-1 if parent_of[n] is None else index[parent_of[n]] for n in names)

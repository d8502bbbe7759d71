"""Binary FBX (version 7400) node/property encoder, written from the public format description.

A file is a 27-byte header, a list of node records, a 13-byte NULL record and a footer.
A node record (< 7500) is ``EndOffset, NumProperties, PropertyListLen`` (uint32 LE), the name
(uint8 length + bytes), the properties, the nested records and, when there are nested records
or no properties (and always for ``ALWAYS_NESTED`` objects), a 13-byte NULL
record. Property type codes: ``C`` bool, ``Y`` int16, ``I``
int32, ``L`` int64, ``F`` float32, ``D`` float64, ``S`` string, ``R`` raw bytes, and arrays
``b i l f d`` (count, encoding 0 raw / 1 zlib, byte length, data).
"""

from __future__ import annotations

import functools
import struct
import zlib
from dataclasses import dataclass, field

import numpy as np

FBX_VERSION = 7400
HEADER_MAGIC = b"Kaydara FBX Binary  \x00\x1a\x00"
NULL_RECORD = b"\x00" * 13
# Fixed values every reader accepts (the ones Blender writes, read from a Blender-exported file).
FILE_ID = bytes.fromhex("28b32aebb624ccc2bfc8b02aa92bfcf1")
CREATION_TIME = "1970-01-01 10:00:00:000"
FOOTER_ID = bytes.fromhex("fabcab09d0c8d466b176fb831cf7267e")
FOOTER_TAIL = bytes.fromhex("f85a8c6adef5d97eece90ce3758f290b")
KTIME_PER_SECOND = 46_186_158_000  # FBX < 7700
COMPRESS_MIN_BYTES = 128
# Objects that readers (assimp) require to have a nested block even when it is empty.
ALWAYS_NESTED = ("AnimationStack", "AnimationLayer")

_SCALAR = {"C": "<?", "Y": "<h", "I": "<i", "L": "<q", "F": "<f", "D": "<d"}
_ARRAY = {
    "b": np.bool_, "c": np.uint8, "i": np.int32, "l": np.int64, "f": np.float32, "d": np.float64,
}  # fmt: skip


@dataclass
class Node:
    """One FBX node: name, typed properties ``[(code, value), ...]`` and children."""

    name: str
    props: list[tuple[str, object]] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    def add(self, name: str, *props: tuple[str, object]) -> Node:
        child = Node(name, list(props))
        self.children.append(child)
        return child

    def find(self, name: str) -> Node | None:
        return next((c for c in self.children if c.name == name), None)

    def find_all(self, name: str) -> list[Node]:
        return [c for c in self.children if c.name == name]


# Typed-property helpers: I(5) -> ("I", 5), d(array) -> ("d", array) ...
def C(v) -> tuple[str, object]:
    return ("C", bool(v))


def I(v) -> tuple[str, object]:  # noqa: E743
    return ("I", int(v))


def L(v) -> tuple[str, object]:
    return ("L", int(v))


def D(v) -> tuple[str, object]:
    return ("D", float(v))


def F(v) -> tuple[str, object]:
    return ("F", float(v))


def S(v: str | bytes) -> tuple[str, object]:
    return ("S", v)


def R(v: bytes) -> tuple[str, object]:
    return ("R", bytes(v))


def arr(code: str, values) -> tuple[str, object]:
    if code not in _ARRAY:
        raise ValueError(f"array code: expected one of {sorted(_ARRAY)}, got {code!r}")
    return (code, np.ascontiguousarray(values, dtype=_ARRAY[code]).reshape(-1))


@functools.lru_cache(maxsize=32)
def _compress(data: bytes) -> bytes:
    """zlib level 1; cached because animation curves repeat identical KeyTime arrays."""
    return zlib.compress(data, 1)


def _encode_prop(code: str, value) -> bytes:
    if code in _SCALAR:
        return code.encode() + struct.pack(_SCALAR[code], value)
    if code in ("S", "R"):
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        return code.encode() + struct.pack("<I", len(data)) + data
    if code in _ARRAY:
        raw = np.ascontiguousarray(value, dtype=_ARRAY[code]).astype(
            np.dtype(_ARRAY[code]).newbyteorder("<"), copy=False
        )
        data = raw.tobytes()
        encoding = 0
        if len(data) > COMPRESS_MIN_BYTES:
            data, encoding = _compress(data), 1
        return code.encode() + struct.pack("<III", raw.size, encoding, len(data)) + data
    raise ValueError(f"FBX property type: unknown code {code!r}")


def _encode_node(out: bytearray, node: Node) -> None:
    start = len(out)
    props = b"".join(_encode_prop(c, v) for c, v in node.props)
    name = node.name.encode("ascii")
    if len(name) > 255:
        raise ValueError(f"FBX node name longer than 255 bytes: {node.name[:40]!r}...")
    out += b"\x00" * 12  # end offset, property count, property bytes: patched below
    out += struct.pack("<B", len(name)) + name + props
    for child in node.children:
        _encode_node(out, child)
    if node.children or not node.props or node.name in ALWAYS_NESTED:
        out += NULL_RECORD
    if len(out) > 0xFFFFFFFF:
        raise ValueError("FBX 7400 files are limited to 4 GiB")
    struct.pack_into("<III", out, start, len(out), len(node.props), len(props))


def encode_fbx(nodes: list[Node], version: int = FBX_VERSION) -> bytes:
    """Serialise top-level ``nodes`` into a complete binary FBX file."""
    if not 7100 <= version < 7500:
        raise ValueError(f"version: this encoder writes 32-bit records (7100..7499), got {version}")
    out = bytearray(HEADER_MAGIC + struct.pack("<I", version))
    for node in nodes:
        _encode_node(out, node)
    out += NULL_RECORD
    out += FOOTER_ID + b"\x00" * 4
    pad = (16 - len(out) % 16) % 16 or 16
    out += b"\x00" * pad + struct.pack("<I", version) + b"\x00" * 120 + FOOTER_TAIL
    return bytes(out)


def decode_fbx(data: bytes) -> tuple[int, list[Node]]:
    """Parse a binary FBX (any version, 32- or 64-bit records) -> (version, top-level nodes)."""
    if len(data) < 27 or data[:23] != HEADER_MAGIC:
        raise ValueError("not a binary FBX file (expected the 'Kaydara FBX Binary' header)")
    version = struct.unpack_from("<I", data, 23)[0]
    wide = version >= 7500
    head = struct.Struct("<QQQ" if wide else "<III")
    null_len = 25 if wide else 13

    def read_prop(pos: int) -> tuple[tuple[str, object], int]:
        code = chr(data[pos])
        pos += 1
        if code in _SCALAR:
            fmt = struct.Struct(_SCALAR[code])
            return (code, fmt.unpack_from(data, pos)[0]), pos + fmt.size
        if code in ("S", "R"):
            (n,) = struct.unpack_from("<I", data, pos)
            raw = data[pos + 4 : pos + 4 + n]
            return (code, raw.decode("utf-8", "replace") if code == "S" else raw), pos + 4 + n
        if code in _ARRAY:
            count, encoding, nbytes = struct.unpack_from("<III", data, pos)
            raw = data[pos + 12 : pos + 12 + nbytes]
            if encoding == 1:
                raw = zlib.decompress(raw)
            values = np.frombuffer(raw, dtype=np.dtype(_ARRAY[code]).newbyteorder("<"))
            if values.size != count:
                raise ValueError(
                    f"FBX array at byte {pos}: expected {count} values, got {values.size}"
                )
            return (code, values.astype(_ARRAY[code])), pos + 12 + nbytes
        raise ValueError(f"FBX property at byte {pos - 1}: unknown type code {code!r}")

    def read_node(pos: int) -> tuple[Node | None, int]:
        end, nprops, _ = head.unpack_from(data, pos)
        if end == 0:
            return None, pos + null_len
        if end > len(data):
            raise ValueError(
                f"FBX node at byte {pos}: end offset {end} beyond file size {len(data)}"
            )
        pos += head.size
        name_len = data[pos]
        name = data[pos + 1 : pos + 1 + name_len].decode("ascii", "replace")
        pos += 1 + name_len
        node = Node(name)
        for _ in range(nprops):
            prop, pos = read_prop(pos)
            node.props.append(prop)
        while pos < end:
            child, pos = read_node(pos)
            if child is None:
                break
            node.children.append(child)
        if pos != end:
            raise ValueError(f"FBX node {name!r}: nested block ends at {pos}, expected {end}")
        return node, end

    nodes, pos = [], 27
    while pos + null_len <= len(data):
        node, pos = read_node(pos)
        if node is None:
            break
        nodes.append(node)
    return version, nodes

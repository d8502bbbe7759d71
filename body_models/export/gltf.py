"""glTF 2.0 binary (GLB) export of a skinned, animated body (hand-written JSON + buffer).

glTF fixes Y up and metres, so the motion must be in the ``up="y"``, ``units="m"`` world.
One node per joint (translation = rest offset, rotation animated as unit quaternions, the
root's translation animated too), one skinned triangle mesh (4 strongest influences per
vertex, renormalised), inverse bind matrices = inverse rest world transforms, one animation
with LINEAR samplers at the motion's frame times.
"""

from __future__ import annotations

import json
import os
import struct

import numpy as np

from body_models.export.atomic import atomic_open
from body_models.export.motion import Motion, SkinnedMesh
from wholebody.rotations import matrix_to_quaternion

GLB_MAGIC, GLB_JSON, GLB_BIN = 0x46546C67, 0x4E4F534A, 0x004E4942
FLOAT, UINT16, UINT32 = 5126, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963


class _Buffer:
    """Accumulates binary views/accessors (4-byte aligned)."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def add(self, array: np.ndarray, type_: str, component: int, target=None, minmax=False) -> int:
        dtype = {FLOAT: "<f4", UINT16: "<u2", UINT32: "<u4"}[component]
        a = np.ascontiguousarray(array, dtype=dtype)
        offset = len(self.data)
        self.data += a.tobytes()
        self.data += b"\x00" * (-len(self.data) % 4)
        view = {"buffer": 0, "byteOffset": offset, "byteLength": a.nbytes}
        if target is not None:
            view["target"] = target
        self.views.append(view)
        width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}[type_]
        acc = {
            "bufferView": len(self.views) - 1,
            "componentType": component,
            "count": int(a.size // width),
            "type": type_,
        }
        if minmax:
            flat = a.reshape(-1, width)
            acc["min"] = flat.min(0).tolist()
            acc["max"] = flat.max(0).tolist()
        self.accessors.append(acc)
        return len(self.accessors) - 1


def top4_influences(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(V, J) weights -> joints (V, 4) uint16 and weights (V, 4) float32 summing to 1."""
    W = np.asarray(weights, dtype=np.float64)
    idx = np.argsort(-W, axis=1)[:, :4]
    w = np.take_along_axis(W, idx, axis=1)
    s = w.sum(1, keepdims=True)
    if np.any(s <= 0):
        raise ValueError("mesh.weights: every vertex needs a positive weight")
    return idx.astype(np.uint16), (w / s).astype(np.float32)


def continuous_quaternions(rotations: np.ndarray) -> np.ndarray:
    """(T, J, 3, 3) -> (T, J, 4) xyzw, sign-flipped so consecutive frames agree (q . q' >= 0)."""
    q = matrix_to_quaternion(rotations)
    dots = np.sum(q[1:] * q[:-1], axis=-1)
    flips = np.cumprod(np.where(dots < 0, -1.0, 1.0), axis=0)
    q[1:] *= flips[..., None]
    return q


def gltf_document(motion: Motion, mesh: SkinnedMesh | None = None) -> tuple[dict, bytes]:
    """The glTF JSON dict and binary buffer for ``motion`` (+ optional skinned mesh)."""
    J, T = motion.num_joints, motion.num_frames
    buf = _Buffer()
    nodes = []
    for j, name in enumerate(motion.names):
        node = {"name": name, "translation": motion.offsets[j].tolist()}
        kids = motion.children(j)
        if kids:
            node["children"] = kids
        nodes.append(node)
    scene_nodes = [0]
    gltf: dict = {"asset": {"version": "2.0", "generator": "wbmocap body_models.export"}}
    if mesh is not None:
        V = np.asarray(mesh.vertices, dtype=np.float64)
        F = np.asarray(mesh.faces, dtype=np.int64)
        if V.ndim != 2 or V.shape[1] != 3 or F.ndim != 2 or F.shape[1] != 3:
            raise ValueError(
                f"mesh: expected vertices (V, 3), faces (F, 3), got {V.shape}, {F.shape}"
            )
        if F.min() < 0 or F.max() >= len(V):
            raise ValueError(
                f"mesh.faces: expected indices in [0, {len(V)}), got {F.min()}..{F.max()}"
            )
        if np.shape(mesh.weights) != (len(V), J):
            raise ValueError(
                f"mesh.weights: expected ({len(V)}, {J}), got {np.shape(mesh.weights)}"
            )
        jidx, jw = top4_influences(mesh.weights)
        attrs = {
            "POSITION": buf.add(V, "VEC3", FLOAT, ARRAY_BUFFER, minmax=True),
            "JOINTS_0": buf.add(jidx, "VEC4", UINT16, ARRAY_BUFFER),
            "WEIGHTS_0": buf.add(jw, "VEC4", FLOAT, ARRAY_BUFFER),
        }
        indices = buf.add(F.reshape(-1), "SCALAR", UINT32, ELEMENT_ARRAY_BUFFER)
        rest = motion.rest_positions()
        inv_bind = np.tile(np.eye(4), (J, 1, 1))
        inv_bind[:, :3, 3] = -rest
        ibm = buf.add(inv_bind.transpose(0, 2, 1), "MAT4", FLOAT)  # column-major
        gltf["meshes"] = [
            {"name": "Body", "primitives": [{"attributes": attrs, "indices": indices}]}
        ]
        gltf["skins"] = [{"joints": list(range(J)), "skeleton": 0, "inverseBindMatrices": ibm}]
        nodes.append({"name": "Body", "mesh": 0, "skin": 0})
        scene_nodes.append(J)
    times = buf.add(np.arange(T) * motion.frame_time, "SCALAR", FLOAT, minmax=True)
    quats = continuous_quaternions(motion.rotations)
    samplers, channels = [], []
    for j in range(J):
        samplers.append(
            {
                "input": times,
                "output": buf.add(quats[:, j], "VEC4", FLOAT),
                "interpolation": "LINEAR",
            }
        )
        channels.append({"sampler": len(samplers) - 1, "target": {"node": j, "path": "rotation"}})
    for j, p in motion.positions.items():
        samplers.append(
            {"input": times, "output": buf.add(p, "VEC3", FLOAT), "interpolation": "LINEAR"}
        )
        channels.append(
            {"sampler": len(samplers) - 1, "target": {"node": j, "path": "translation"}}
        )
    gltf.update(
        scene=0,
        scenes=[{"nodes": scene_nodes}],
        nodes=nodes,
        animations=[{"name": "motion", "samplers": samplers, "channels": channels}],
        buffers=[{"byteLength": len(buf.data)}],
        bufferViews=buf.views,
        accessors=buf.accessors,
    )
    return gltf, bytes(buf.data)


def glb_bytes(gltf: dict, binary: bytes) -> bytes:
    """Pack JSON + BIN chunks into a GLB container (both 4-byte padded)."""
    js = json.dumps(gltf, separators=(",", ":")).encode("utf-8")
    js += b" " * (-len(js) % 4)
    binary = binary + b"\x00" * (-len(binary) % 4)
    total = 12 + 8 + len(js) + 8 + len(binary)
    return (
        struct.pack("<III", GLB_MAGIC, 2, total)
        + struct.pack("<II", len(js), GLB_JSON)
        + js
        + struct.pack("<II", len(binary), GLB_BIN)
        + binary
    )


def read_glb(data: bytes) -> tuple[dict, bytes]:
    """Split a GLB into (JSON dict, BIN chunk)."""
    if len(data) < 20:
        raise ValueError(f"GLB: expected at least 20 bytes, got {len(data)}")
    magic, version, total = struct.unpack_from("<III", data, 0)
    if magic != GLB_MAGIC or version != 2 or total != len(data):
        raise ValueError(f"GLB: bad header (magic {magic:#x}, version {version}, length {total})")
    jlen, jtype = struct.unpack_from("<II", data, 12)
    if jtype != GLB_JSON:
        raise ValueError("GLB: first chunk is not JSON")
    gltf = json.loads(data[20 : 20 + jlen])
    pos = 20 + jlen
    binary = b""
    if pos < len(data):
        blen, btype = struct.unpack_from("<II", data, pos)
        if btype != GLB_BIN:
            raise ValueError("GLB: second chunk is not BIN")
        binary = data[pos + 8 : pos + 8 + blen]
    return gltf, binary


def accessor_array(gltf: dict, binary: bytes, index: int) -> np.ndarray:
    """Read accessor ``index`` as a numpy array shaped (count, width)."""
    acc = gltf["accessors"][index]
    view = gltf["bufferViews"][acc["bufferView"]]
    dtype = {FLOAT: "<f4", UINT16: "<u2", UINT32: "<u4"}[acc["componentType"]]
    width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}[acc["type"]]
    start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    a = np.frombuffer(binary, dtype=dtype, count=acc["count"] * width, offset=start)
    return a.reshape(acc["count"], width)


def write_glb(path: str | os.PathLike, motion: Motion, mesh: SkinnedMesh | None = None) -> None:
    """Write a GLB file (Y up, metres: pass a motion built with ``up="y"``, ``units="m"``)."""
    data = glb_bytes(*gltf_document(motion, mesh))
    with atomic_open(path, "wb") as fh:
        fh.write(data)

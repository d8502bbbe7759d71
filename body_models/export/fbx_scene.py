"""FBX 7400 scene for a :class:`Motion`: LimbNode skeleton, animation curves, optional skin.

Scene layout (all world-aligned like BVH, so the rest pose is the T-pose with identity
rotations): a ``Null`` model (the armature) at the origin, one ``LimbNode`` model per joint
with ``Lcl Translation`` = rest offset and ``Lcl Rotation`` = 0, a ``BindPose``, one animation
stack/layer with ``Lcl Rotation`` curves for every joint and ``Lcl Translation`` curves for
joints with position channels. Rotations use FBX's default order ``eEulerXYZ``
(R = Rz @ Ry @ Rx, degrees). ``GlobalSettings`` declares the axes and the unit: metres are
``UnitScaleFactor`` 100 (FBX counts in centimetres), centimetres are 1.
Optionally a triangle mesh skinned to the joints (``Geometry``, ``Skin``, one ``Cluster`` per
influencing joint with ``Transform`` = inverse bind, ``TransformLink`` = bind).
"""

from __future__ import annotations

import itertools
import os

import numpy as np

from body_models.export.atomic import atomic_open
from body_models.export.euler import matrix_to_euler
from body_models.export.fbx_binary import (
    CREATION_TIME,
    FBX_VERSION,
    FILE_ID,
    KTIME_PER_SECOND,
    D,
    I,
    L,
    Node,
    R,
    S,
    arr,
    encode_fbx,
)
from body_models.export.motion import Motion, SkinnedMesh

CREATOR = "wbmocap body_models.export (FBX 7400)"
# FBX TimeMode enum values for common rates; anything else is 14 (custom) + CustomFrameRate.
TIME_MODES = {120: 1, 100: 2, 60: 3, 50: 4, 48: 5, 30: 6, 25: 10, 24: 11, 1000: 12, 96: 15, 72: 16}
# (UpAxis, UpAxisSign, FrontAxis, FrontAxisSign, CoordAxis, CoordAxisSign)
AXES = {"y": (1, 1, 2, 1, 0, 1), "z": (2, 1, 1, -1, 0, 1)}
UNIT_SCALE_FACTOR = {"m": 100.0, "cm": 1.0}
# Per-curve key attributes as Blender writes them: linear interpolation + tangent flags.
KEY_ATTR_FLAGS = 24836
KEY_ATTR_DATA = np.array([0, 0, 0x0F3F0F3F, 0], dtype=np.int32).view(np.float32)


def fbx_euler_degrees(rotations: np.ndarray) -> np.ndarray:
    """(..., 3, 3) -> (..., 3) FBX XYZ Euler degrees (x, y, z): R = Rz(z) Ry(y) Rx(x)."""
    zyx = matrix_to_euler(rotations, "ZYX")
    return np.degrees(zyx[..., ::-1])


def _p(name: str, type_: str, label: str, flags: str, *values) -> Node:
    return Node("P", [S(name), S(type_), S(label), S(flags), *values])


def _props70(*ps: Node) -> Node:
    return Node("Properties70", [], list(ps))


def _vec3(name: str, v, flags: str = "A") -> Node:
    return _p(name, name, "", flags, *(D(x) for x in v))


def _matrix(m: np.ndarray) -> tuple[str, object]:
    """4x4 matrix as FBX's 16 doubles (column-major: translation at 12..14)."""
    return arr("d", np.asarray(m, dtype=np.float64).T.reshape(-1))


def _translation(t) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = t
    return m


def _curve(uid: int, times: np.ndarray, values: np.ndarray) -> Node:
    vals = np.asarray(values, dtype=np.float32)
    n = Node("AnimationCurve", [L(uid), S("\x00\x01AnimCurve"), S("")])
    n.add("Default", D(float(vals[0])))
    n.add("KeyVer", I(4008))
    n.add("KeyTime", arr("l", times))
    n.add("KeyValueFloat", arr("f", vals))
    n.add("KeyAttrFlags", arr("i", [KEY_ATTR_FLAGS]))
    n.add("KeyAttrDataFloat", arr("f", KEY_ATTR_DATA))
    n.add("KeyAttrRefCount", arr("i", [len(vals)]))
    return n


def fbx_document(
    motion: Motion,
    up: str = "y",
    units: str = "m",
    mesh: SkinnedMesh | None = None,
    name: str = "Armature",
) -> list[Node]:
    """Build the top-level FBX nodes for ``motion`` (already in the ``up``/``units`` world)."""
    if up not in AXES:
        raise ValueError(f"up: expected one of {sorted(AXES)}, got {up!r}")
    if units not in UNIT_SCALE_FACTOR:
        raise ValueError(f"units: expected one of {sorted(UNIT_SCALE_FACTOR)}, got {units!r}")
    uid = itertools.count(1_000_000)
    T, J = motion.num_frames, motion.num_joints
    fps = motion.fps
    times = np.rint(np.arange(T) * motion.frame_time * KTIME_PER_SECOND).astype(np.int64)
    stop = int(times[-1])
    objects, conns = Node("Objects"), Node("Connections")

    def connect(kind: str, child: int, parent: int, prop: str | None = None) -> None:
        conns.add("C", S(kind), L(child), L(parent), *([S(prop)] if prop else []))

    counts: dict[str, int] = {}

    def obj(kind: str, node: Node) -> Node:
        counts[kind] = counts.get(kind, 0) + 1
        objects.children.append(node)
        return node

    # armature null
    arm_uid, arm_attr = next(uid), next(uid)
    a = obj(
        "NodeAttribute",
        Node("NodeAttribute", [L(arm_attr), S(f"{name}\x00\x01NodeAttribute"), S("Null")]),
    )
    a.add("TypeFlags", S("Null"))
    m = obj("Model", Node("Model", [L(arm_uid), S(f"{name}\x00\x01Model"), S("Null")]))
    m.add("Version", I(232))
    m.children.append(_props70(_p("InheritType", "enum", "", "", I(1))))
    connect("OO", arm_uid, 0)
    connect("OO", arm_attr, arm_uid)

    # bones at rest: identity rotations, offsets as translations
    bone_uids = [next(uid) for _ in range(J)]
    rest = motion.rest_positions()
    size = float(np.median(np.linalg.norm(motion.offsets[1:], axis=1))) if J > 1 else 1.0
    for j, jname in enumerate(motion.names):
        attr = next(uid)
        na = obj(
            "NodeAttribute",
            Node("NodeAttribute", [L(attr), S(f"{jname}\x00\x01NodeAttribute"), S("LimbNode")]),
        )
        na.add("TypeFlags", S("Skeleton"))
        na.children.append(_props70(_p("Size", "double", "Number", "", D(size))))
        bm = obj(
            "Model", Node("Model", [L(bone_uids[j]), S(f"{jname}\x00\x01Model"), S("LimbNode")])
        )
        bm.add("Version", I(232))
        bm.children.append(
            _props70(
                _vec3("Lcl Translation", motion.offsets[j], "A+"),
                _vec3("Lcl Rotation", (0.0, 0.0, 0.0), "A+"),
                _vec3("Lcl Scaling", (1.0, 1.0, 1.0), "A+"),
                _p("InheritType", "enum", "", "", I(1)),
            )
        )
        for key, val in (
            ("MultiLayer", I(0)),
            ("MultiTake", I(0)),
            ("Shading", ("C", True)),
            ("Culling", S("CullingOff")),
        ):
            bm.add(key, val)
        parent = arm_uid if motion.parents[j] < 0 else bone_uids[motion.parents[j]]
        connect("OO", bone_uids[j], parent)
        connect("OO", attr, bone_uids[j])

    pose_nodes = [(bone_uids[j], _translation(rest[j])) for j in range(J)]
    pose_nodes.insert(0, (arm_uid, np.eye(4)))
    if mesh is not None:
        pose_nodes.append(_mesh_objects(obj, connect, uid, mesh, bone_uids, rest, name))
    pose = obj("Pose", Node("Pose", [L(next(uid)), S(f"{name}\x00\x01Pose"), S("BindPose")]))
    pose.add("Type", S("BindPose"))
    pose.add("Version", I(100))
    pose.add("NbPoseNodes", I(len(pose_nodes)))
    for node_uid, mat in pose_nodes:
        pn = pose.add("PoseNode")
        pn.add("Node", L(node_uid))
        pn.add("Matrix", _matrix(mat))

    # animation
    take = f"{name}|motion"
    stack_uid, layer_uid = next(uid), next(uid)
    st = obj(
        "AnimationStack",
        Node("AnimationStack", [L(stack_uid), S(f"{take}\x00\x01AnimStack"), S("")]),
    )
    st.children.append(
        _props70(
            _p("LocalStop", "KTime", "Time", "", L(stop)),
            _p("ReferenceStop", "KTime", "Time", "", L(stop)),
        )
    )
    obj(
        "AnimationLayer",
        Node("AnimationLayer", [L(layer_uid), S(f"{take}\x00\x01AnimLayer"), S("")]),
    )
    connect("OO", layer_uid, stack_uid)
    euler = np.unwrap(fbx_euler_degrees(motion.rotations), period=360.0, axis=0)  # (T, J, 3)
    channels = [(j, "R", "Lcl Rotation", euler[:, j]) for j in range(J)]
    channels += [(j, "T", "Lcl Translation", p) for j, p in motion.positions.items()]
    for j, short, prop, values in channels:
        cn_uid = next(uid)
        cn = obj(
            "AnimationCurveNode",
            Node("AnimationCurveNode", [L(cn_uid), S(f"{short}\x00\x01AnimCurveNode"), S("")]),
        )
        cn.children.append(
            _props70(
                *(_p(f"d|{ax}", "Number", "", "A", D(values[0, k])) for k, ax in enumerate("XYZ"))
            )
        )
        connect("OO", cn_uid, layer_uid)
        connect("OP", cn_uid, bone_uids[j], prop)
        for k, ax in enumerate("XYZ"):
            c_uid = next(uid)
            obj("AnimationCurve", _curve(c_uid, times, values[:, k]))
            connect("OP", c_uid, cn_uid, f"d|{ax}")

    return [
        _header(),
        Node("FileId", [R(FILE_ID)]),
        Node("CreationTime", [S(CREATION_TIME)]),
        Node("Creator", [S(CREATOR)]),
        _global_settings(up, units, fps, stop),
        _documents(stack_uid, take),
        Node("References"),
        _definitions(counts),
        objects,
        conns,
        _takes(take, stop),
    ]


def _mesh_objects(
    obj, connect, uid, mesh: SkinnedMesh, bone_uids, rest, name
) -> tuple[int, np.ndarray]:
    V = np.asarray(mesh.vertices, dtype=np.float64)
    Fc = np.asarray(mesh.faces, dtype=np.int64)
    W = np.asarray(mesh.weights, dtype=np.float64)
    J = len(bone_uids)
    if V.ndim != 2 or V.shape[1] != 3 or not np.all(np.isfinite(V)):
        raise ValueError(f"mesh.vertices: expected finite (V, 3), got {V.shape}")
    if Fc.ndim != 2 or Fc.shape[1] != 3 or Fc.min() < 0 or Fc.max() >= len(V):
        raise ValueError(f"mesh.faces: expected (F, 3) indices < {len(V)}, got {Fc.shape}")
    if W.shape != (len(V), J):
        raise ValueError(f"mesh.weights: expected shape ({len(V)}, {J}), got {W.shape}")
    geo_uid, mesh_uid, skin_uid = next(uid), next(uid), next(uid)
    geo = obj("Geometry", Node("Geometry", [L(geo_uid), S("Body\x00\x01Geometry"), S("Mesh")]))
    geo.add("GeometryVersion", I(124))
    geo.add("Vertices", arr("d", V))
    poly = Fc.copy()
    poly[:, 2] = -poly[:, 2] - 1  # last index of each polygon is stored as -(i + 1)
    geo.add("PolygonVertexIndex", arr("i", poly))
    mm = obj("Model", Node("Model", [L(mesh_uid), S("Body\x00\x01Model"), S("Mesh")]))
    mm.add("Version", I(232))
    mm.children.append(_props70(_p("InheritType", "enum", "", "", I(1))))
    connect("OO", mesh_uid, 0)
    connect("OO", geo_uid, mesh_uid)
    skin = obj("Deformer", Node("Deformer", [L(skin_uid), S(f"{name}\x00\x01Deformer"), S("Skin")]))
    skin.add("Version", I(101))
    skin.add("Link_DeformAcuracy", D(50.0))
    connect("OO", skin_uid, geo_uid)
    for j in range(J):
        idx = np.flatnonzero(W[:, j] > 0)
        if idx.size == 0:
            continue
        c_uid = next(uid)
        cl = obj(
            "Deformer", Node("Deformer", [L(c_uid), S(f"{j}\x00\x01SubDeformer"), S("Cluster")])
        )
        cl.add("Version", I(100))
        cl.add("UserData", S(""), S(""))
        cl.add("Indexes", arr("i", idx))
        cl.add("Weights", arr("d", W[idx, j]))
        cl.add("Transform", _matrix(_translation(-rest[j])))
        cl.add("TransformLink", _matrix(_translation(rest[j])))
        connect("OO", c_uid, skin_uid)
        connect("OO", bone_uids[j], c_uid)
    return mesh_uid, np.eye(4)


def _header() -> Node:
    h = Node("FBXHeaderExtension")
    h.add("FBXHeaderVersion", I(1003))
    h.add("FBXVersion", I(FBX_VERSION))
    h.add("EncryptionType", I(0))
    ts = h.add("CreationTimeStamp")
    for key, val in (("Version", 1000), ("Year", 1970), ("Month", 1), ("Day", 1), ("Hour", 10),
                     ("Minute", 0), ("Second", 0), ("Millisecond", 0)):  # fmt: skip
        ts.add(key, I(val))
    h.add("Creator", S(CREATOR))
    return h


def _global_settings(up: str, units: str, fps: float, stop: int) -> Node:
    ua, us, fa, fs, ca, cs = AXES[up]
    rounded = int(round(fps))
    mode = TIME_MODES.get(rounded, 14) if abs(fps - rounded) < 1e-6 else 14
    g = Node("GlobalSettings")
    g.add("Version", I(1000))
    g.children.append(
        _props70(
            _p("UpAxis", "int", "Integer", "", I(ua)),
            _p("UpAxisSign", "int", "Integer", "", I(us)),
            _p("FrontAxis", "int", "Integer", "", I(fa)),
            _p("FrontAxisSign", "int", "Integer", "", I(fs)),
            _p("CoordAxis", "int", "Integer", "", I(ca)),
            _p("CoordAxisSign", "int", "Integer", "", I(cs)),
            _p("OriginalUpAxis", "int", "Integer", "", I(ua)),
            _p("OriginalUpAxisSign", "int", "Integer", "", I(us)),
            _p("UnitScaleFactor", "double", "Number", "", D(UNIT_SCALE_FACTOR[units])),
            _p("OriginalUnitScaleFactor", "double", "Number", "", D(UNIT_SCALE_FACTOR[units])),
            _p("AmbientColor", "ColorRGB", "Color", "", D(0), D(0), D(0)),
            _p("DefaultCamera", "KString", "", "", S("Producer Perspective")),
            _p("TimeMode", "enum", "", "", I(mode)),
            _p("TimeSpanStart", "KTime", "Time", "", L(0)),
            _p("TimeSpanStop", "KTime", "Time", "", L(stop)),
            _p("CustomFrameRate", "double", "Number", "", D(fps)),
        )  # fmt: skip
    )
    return g


def _documents(stack_uid: int, take: str) -> Node:
    docs = Node("Documents")
    docs.add("Count", I(1))
    doc = docs.add("Document", L(999_999), S("Scene"), S("Scene"))
    doc.children.append(
        _props70(
            _p("SourceObject", "object", "", ""),
            _p("ActiveAnimStackName", "KString", "", "", S(take)),
        )
    )
    doc.add("RootNode", L(0))
    return docs


def _definitions(counts: dict[str, int]) -> Node:
    d = Node("Definitions")
    d.add("Version", I(100))
    d.add("Count", I(sum(counts.values()) + 1))
    d.add("ObjectType", S("GlobalSettings")).add("Count", I(1))
    for kind, n in counts.items():
        d.add("ObjectType", S(kind)).add("Count", I(n))
    return d


def _takes(take: str, stop: int) -> Node:
    t = Node("Takes")
    t.add("Current", S(""))
    tk = t.add("Take", S(take))
    tk.add("FileName", S(f"{take}.tak"))
    tk.add("LocalTime", L(0), L(stop))
    tk.add("ReferenceTime", L(0), L(stop))
    return t


def write_fbx(
    path: str | os.PathLike,
    motion: Motion,
    up: str = "y",
    units: str = "m",
    mesh: SkinnedMesh | None = None,
    name: str = "Armature",
) -> None:
    """Write ``motion`` (and optionally a skinned mesh) as binary FBX 7400, atomically."""
    data = encode_fbx(fbx_document(motion, up, units, mesh, name))
    with atomic_open(path, "wb") as fh:
        fh.write(data)

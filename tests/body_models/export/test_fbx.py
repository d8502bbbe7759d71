"""Binary FBX: encoder byte-exact on a Blender file, our scenes re-parse to the same motion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from body_models.export.fbx_binary import (
    FOOTER_TAIL,
    HEADER_MAGIC,
    Node,
    arr,
    decode_fbx,
    encode_fbx,
)
from body_models.export.fbx_read import fbx_to_motion, read_fbx_motion
from body_models.export.fbx_scene import fbx_document, write_fbx
from body_models.export.motion import SkinnedMesh
from body_models.export.smplx_motion import smplx_motion
from tests.body_models.export.conftest import random_params

DATA = Path(__file__).parent / "data"


def test_reencode_blender_file_byte_for_byte():
    data = (DATA / "blender34_armature.fbx").read_bytes()
    version, nodes = decode_fbx(data)
    assert version == 7400
    assert [n.name for n in nodes][:4] == [
        "FBXHeaderExtension",
        "FileId",
        "CreationTime",
        "Creator",
    ]
    assert encode_fbx(nodes, version) == data
    objects = next(n for n in nodes if n.name == "Objects")
    curves = objects.find_all("AnimationCurve")
    assert len(curves) == 27 and curves[0].find("KeyTime").props[0][1].dtype == np.int64


def test_encoder_primitives_round_trip():
    big = np.arange(1000, dtype=np.float64)  # > 128 bytes: zlib-compressed
    root = Node("Root", [("I", -5), ("L", 2**40), ("D", 1.5), ("S", "a\x00\x01b"), ("C", True)])
    root.add("Arr", arr("d", big), arr("i", [1, -2]), arr("f", [0.5]), arr("l", [7]))
    root.add("Empty")
    data = encode_fbx([root])
    assert data[:23] == HEADER_MAGIC and data.endswith(FOOTER_TAIL)
    assert len(data) < 8000 / 2  # the 8 kB array was compressed
    _, (back,) = decode_fbx(data)
    assert [v for _, v in back.props] == [-5, 2**40, 1.5, "a\x00\x01b", True]
    (a,) = back.find_all("Arr")
    np.testing.assert_array_equal(a.props[0][1], big)
    assert a.props[1][1].tolist() == [1, -2] and a.props[3][1].tolist() == [7]
    with pytest.raises(ValueError, match="not a binary FBX"):
        decode_fbx(b"; FBX 7.4.0 project file")
    with pytest.raises(ValueError, match="beyond file size"):
        decode_fbx(data[:200])


@pytest.mark.parametrize(("up", "units"), [("y", "m"), ("z", "cm")])
def test_fbx_scene_reparses_to_same_motion(tmp_path, rest_joints, up, units):
    motion = smplx_motion(random_params(15), rest_joints, fps=24, up=up, units=units)
    path = tmp_path / "m.fbx"
    write_fbx(path, motion, up=up, units=units)
    back, settings = read_fbx_motion(path)
    assert back.names == motion.names[:1] + back.names[1:] and set(back.names) == set(motion.names)
    assert back.num_frames == 15 and abs(back.fps - 24) < 1e-9
    idx = [back.index(n) for n in motion.names]
    p0, _ = motion.forward_kinematics()
    p1, _ = back.forward_kinematics()
    scale = 100.0 if units == "cm" else 1.0
    assert np.abs(p1[:, idx] - p0).max() < 2e-6 * scale  # float32 key values
    assert settings["UpAxis"] == (1 if up == "y" else 2)
    assert settings["UnitScaleFactor"] == (100.0 if units == "m" else 1.0)
    assert settings["TimeMode"] == 11 and settings["CustomFrameRate"] == 24.0


def test_fbx_with_skinned_mesh(tmp_path, rest_joints):
    motion = smplx_motion(random_params(3), rest_joints)
    rng = np.random.default_rng(0)
    V = 200
    verts = rng.normal(scale=0.3, size=(V, 3))
    faces = rng.integers(0, V, size=(300, 3))
    w = rng.uniform(size=(V, 55)) * (rng.uniform(size=(V, 55)) < 0.05)
    w[:, 0] += 1e-3
    w /= w.sum(1, keepdims=True)
    nodes = fbx_document(motion, mesh=SkinnedMesh(verts, faces, w))
    _, back = decode_fbx(encode_fbx(nodes))
    objects = next(n for n in back if n.name == "Objects")
    (geo,) = objects.find_all("Geometry")
    np.testing.assert_allclose(geo.find("Vertices").props[0][1].reshape(-1, 3), verts)
    poly = geo.find("PolygonVertexIndex").props[0][1].reshape(-1, 3)
    np.testing.assert_array_equal(poly[:, :2], faces[:, :2])
    np.testing.assert_array_equal(-poly[:, 2] - 1, faces[:, 2])
    clusters = [d for d in objects.find_all("Deformer") if d.props[2][1] == "Cluster"]
    total = np.zeros(V)
    for c in clusters:
        total[c.find("Indexes").props[0][1]] += c.find("Weights").props[0][1]
        link = c.find("TransformLink").props[0][1].reshape(4, 4).T
        inv = c.find("Transform").props[0][1].reshape(4, 4).T
        np.testing.assert_allclose(link @ inv, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(total, 1.0)
    assert len(clusters) == int((w > 0).any(0).sum())
    (pose,) = objects.find_all("Pose")
    assert pose.find("NbPoseNodes").props[0][1] == 55 + 2
    assert fbx_to_motion(back).num_joints == 55
    with pytest.raises(ValueError, match="mesh.weights"):
        write_fbx(tmp_path / "bad.fbx", motion, mesh=SkinnedMesh(verts, faces, w[:, :10]))
    assert not list(tmp_path.iterdir())

"""GLB export: container, skin and animation re-read give our FK; trimesh loads it."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from body_models.export.gltf import accessor_array, read_glb, write_glb
from body_models.export.motion import forward_kinematics
from body_models.export.smplx_motion import model_rest_joints, smplx_motion, smplx_skinned_mesh
from tests.body_models.export.conftest import random_params
from wholebody.rotations import quaternion_to_matrix


def test_glb_skinned_animated_body(tmp_path, model):
    params = random_params(8, seed=3)
    motion = smplx_motion(params, model_rest_joints(model, params["betas"]))
    mesh = smplx_skinned_mesh(model, params["betas"])
    path = tmp_path / "body.glb"
    write_glb(path, motion, mesh)

    scene = trimesh.load(path)
    (geom,) = scene.geometry.values()
    np.testing.assert_allclose(geom.vertices, mesh.vertices, atol=1e-6)
    assert len(geom.faces) == len(model.faces)

    gltf, binary = read_glb(path.read_bytes())
    nodes = gltf["nodes"]
    assert len(nodes) == 56 and gltf["skins"][0]["joints"] == list(range(55))
    (anim,) = gltf["animations"]
    assert len(anim["channels"]) == 55 + 1
    times = accessor_array(gltf, binary, anim["samplers"][0]["input"])[:, 0]
    np.testing.assert_allclose(times, np.arange(8) / 30.0, atol=1e-6)
    rot = np.zeros((8, 55, 3, 3))
    trans = np.tile(np.array([n["translation"] for n in nodes[:55]]), (8, 1, 1))
    for ch in anim["channels"]:
        out = accessor_array(gltf, binary, anim["samplers"][ch["sampler"]]["output"])
        j = ch["target"]["node"]
        if ch["target"]["path"] == "rotation":
            rot[:, j] = quaternion_to_matrix(out / np.linalg.norm(out, axis=1, keepdims=True))
        else:
            trans[:, j] = out
    parents = [-1] * 55
    for j, n in enumerate(nodes[:55]):
        for c in n.get("children", []):
            parents[c] = j
    pos, _ = forward_kinematics(parents, trans, rot)
    np.testing.assert_allclose(pos, motion.forward_kinematics()[0], atol=1e-5)
    ibm = accessor_array(gltf, binary, gltf["skins"][0]["inverseBindMatrices"]).reshape(55, 4, 4)
    np.testing.assert_allclose(ibm[:, 3, :3], -motion.rest_positions(), atol=1e-6)
    jw = accessor_array(gltf, binary, gltf["meshes"][0]["primitives"][0]["attributes"]["WEIGHTS_0"])
    np.testing.assert_allclose(jw.sum(1), 1.0, atol=1e-6)


def test_glb_body_only_folds_weights(model):
    mesh = smplx_skinned_mesh(model, None, body_only=True)
    assert mesh.weights.shape == (model.num_vertices, 22)
    np.testing.assert_allclose(mesh.weights.sum(1), model.weights.sum(1), atol=1e-12)


def test_glb_rejects_bad_mesh(tmp_path, model):
    motion = smplx_motion(random_params(2), model_rest_joints(model))
    mesh = smplx_skinned_mesh(model)
    bad = type(mesh)(mesh.vertices, mesh.faces + len(mesh.vertices), mesh.weights)
    with pytest.raises(ValueError, match="mesh.faces"):
        write_glb(tmp_path / "x.glb", motion, bad)
    assert not (tmp_path / "x.glb").exists()

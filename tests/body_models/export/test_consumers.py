"""Real consumers of our files (slow; `make test-all` installs them): Blender 3.4, assimp.

Blender imports each export headless; our ``blender_probe.py`` writes the imported bone
count, frame range, frame rate and every bone head's world position on sampled frames.
Documented conversions into Blender's world (Z up, metres):
- BVH (importer defaults: forward -Z, up Y): Blender = (x, -z, y) of the file's world.
- FBX: the importer honours GlobalSettings: Y-up files map as BVH, Z-up files are
  unchanged; UnitScaleFactor 1 (cm) files are scaled by 1/100.
- GLB (Y up, metres): Blender = (x, -z, y).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from body_models import load_model_file, random_model_file
from body_models.export.bvh import write_bvh
from body_models.export.bvh_read import read_bvh
from body_models.export.fbx_binary import decode_fbx, encode_fbx
from body_models.export.fbx_scene import write_fbx
from body_models.export.gltf import write_glb
from body_models.export.names import CMU_TO_SMPLX
from body_models.export.retarget import retarget_to_smplx
from body_models.export.smplx_motion import model_rest_joints, smplx_motion, smplx_skinned_mesh
from tests.body_models.export.conftest import cmu_path, random_params
from tests.body_models.export.test_retarget import EXACT_DEG, PELVIS_DEG, bone_angles

pytestmark = pytest.mark.slow
PROBE = Path(__file__).parent / "blender_probe.py"
Y_UP_TO_BLENDER = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])
T = 12
FRAMES = (0, 5, T - 1)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not installed: run `make setup-full` (apt: blender assimp-utils)")
    return path


def blender_probe(path: Path, frame_offset: int, fps: int | None = None, **options) -> dict:
    out = path.with_suffix(path.suffix + ".json")
    frames = ",".join(str(f + frame_offset) for f in FRAMES)
    cmd = [tool("blender"), "-b", "--factory-startup", "--python", str(PROBE), "--",
           str(path), str(out), frames, str(fps) if fps else "-", json.dumps(options)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and out.is_file(), proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(out.read_text())


def lbs_vertices(motion, mesh, frame: int) -> np.ndarray:
    """Linear blend skinning of the rest mesh by the motion's FK (what FBX/glTF skins mean)."""
    P, G = motion.forward_kinematics()
    rest = motion.rest_positions()
    local = mesh.vertices[:, None, :] - rest[None]  # (V, J, 3)
    posed = np.einsum("jab,vjb->vja", G[frame], local) + P[frame][None]
    return np.einsum("vj,vja->va", mesh.weights, posed)


def assert_mesh(result: dict, motion, mesh, conv: np.ndarray, offset: int, top4=False) -> None:
    from scipy.spatial import cKDTree

    if top4:  # glTF keeps the 4 strongest influences per vertex
        from body_models.export.gltf import top4_influences

        idx, w = top4_influences(mesh.weights)
        full = np.zeros_like(mesh.weights)
        np.put_along_axis(full, idx.astype(int), w, axis=1)
        mesh = type(mesh)(mesh.vertices, mesh.faces, full)
    for f in FRAMES:
        got = np.array(result["mesh"][str(f + offset)])
        want = lbs_vertices(motion, mesh, f) @ conv.T
        dist, _ = cKDTree(got).query(want)  # importers may reorder vertices
        assert dist.max() < 1e-4, (f, dist.max())


def assert_heads(result: dict, fk: np.ndarray, names, conv: np.ndarray, offset: int) -> None:
    for f in FRAMES:
        heads = result["heads"][str(f + offset)]
        got = np.array([heads[n] for n in names])
        np.testing.assert_allclose(got, fk[f] @ conv.T, atol=1e-4, err_msg=f"frame {f}")


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    d = tmp_path_factory.mktemp("consumers")
    model = load_model_file(random_model_file(d / "model.npz"))
    params = random_params(T, seed=5)
    params["betas"] = np.random.default_rng(1).normal(size=10) * 0.5
    return d, model, params, model_rest_joints(model, params["betas"])


@pytest.mark.parametrize(("up", "units", "names"), [("y", "m", "smplx"), ("z", "cm", "mixamo")])
def test_bvh_in_blender_and_assimp(fitted, up, units, names):
    d, _, params, rest = fitted
    motion = smplx_motion(params, rest, fps=30, up=up, units=units, names=names)
    path = d / f"body_{up}_{units}.bvh"
    write_bvh(path, motion)
    # Blender's BVH importer assumes Y up and no scaling unless told otherwise
    opts = {} if up == "y" else {"axis_forward": "Y", "axis_up": "Z", "global_scale": 0.01}
    res = blender_probe(path, frame_offset=1, **opts)
    assert sorted(res["bones"]) == sorted(motion.names) and res["fps"] == 30.0
    assert res["action_range"] == [[1.0, float(T)]]
    conv = Y_UP_TO_BLENDER if up == "y" else np.eye(3) / 100.0
    assert_heads(res, motion.forward_kinematics()[0], motion.names, conv, 1)
    info = subprocess.run([tool("assimp"), "info", str(path)], capture_output=True, text=True)
    assert info.returncode == 0, info.stderr
    assert "Nodes:              70" in info.stdout  # 55 joints + 15 End Sites
    assert "Animations:         1" in info.stdout and "Animation Channels: 55" in info.stdout


@pytest.mark.parametrize(
    ("up", "units", "fps", "names"), [("y", "m", 30, "smplx"), ("z", "cm", 24, "unreal")]
)
def test_fbx_in_blender_and_assimp(fitted, up, units, fps, names):
    d, model, params, rest = fitted
    motion = smplx_motion(params, rest, fps=fps, up=up, units=units, names=names)
    mesh = smplx_skinned_mesh(model, params["betas"], up=up, units=units)
    path = d / f"body_{up}_{units}.fbx"
    write_fbx(path, motion, up=up, units=units, mesh=mesh)
    res = blender_probe(path, frame_offset=1)
    assert sorted(res["bones"]) == sorted(motion.names) and res["fps"] == float(fps)
    assert res["action_range"] == [[1.0, float(T)]] and res["mesh_vertices"] == [10475]
    conv = (Y_UP_TO_BLENDER if up == "y" else np.eye(3)) / (100.0 if units == "cm" else 1.0)
    assert_heads(res, motion.forward_kinematics()[0], motion.names, conv, 1)
    assert_mesh(res, motion, mesh, conv, 1)
    info = subprocess.run([tool("assimp"), "info", str(path)], capture_output=True, text=True)
    assert info.returncode == 0, info.stderr
    assert "Animations:         1" in info.stdout and "Animation Channels: 55" in info.stdout
    assert "Bones:              55" in info.stdout and "Vertices:           10475" in info.stdout


def test_glb_in_blender(fitted):
    d, model, params, rest = fitted
    motion = smplx_motion(params, rest, fps=30)
    path = d / "body.glb"
    mesh = smplx_skinned_mesh(model, params["betas"])
    write_glb(path, motion, mesh)
    res = blender_probe(path, frame_offset=0, fps=30)
    assert len(res["bones"]) == 55 and res["mesh_vertices"] == [10475]
    assert_heads(res, motion.forward_kinematics()[0], motion.names, Y_UP_TO_BLENDER, 0)
    assert_mesh(res, motion, mesh, Y_UP_TO_BLENDER, 0, top4=True)


@pytest.mark.parametrize(("name", "frames"), [("01_01.bvh", 2752), ("01_03.bvh", 4511)])
def test_full_cmu_files_retarget(tmp_path, rest_joints, name, frames):
    src = read_bvh(cmu_path(name))
    assert src.num_joints == 31 and src.num_frames == frames and abs(src.fps - 120) < 1e-2
    motion = smplx_motion(retarget_to_smplx(src, CMU_TO_SMPLX, rest_joints), rest_joints, src.fps)
    write_bvh(tmp_path / "smplx.bvh", motion)
    angles = bone_angles(src, read_bvh(tmp_path / "smplx.bvh"))
    for bone, deg in angles.items():
        assert deg < (PELVIS_DEG if bone.startswith("pelvis->") else EXACT_DEG), (bone, deg)
    info = subprocess.run(
        [tool("assimp"), "info", str(tmp_path / "smplx.bvh")], capture_output=True, text=True
    )
    assert info.returncode == 0 and "Animations:         1" in info.stdout


@pytest.mark.parametrize(
    "name", ["animation_with_skeleton.fbx", "global_settings.fbx", "huesitos.fbx", "spider.fbx"]
)
def test_third_party_fbx_reencodes_byte_for_byte(name):
    path = cmu_path("01_01.bvh").parent.parent / "FBX" / name
    data = path.read_bytes()
    version, nodes = decode_fbx(data)
    assert version == 7400 and encode_fbx(nodes, version) == data

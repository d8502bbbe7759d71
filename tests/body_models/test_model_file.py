"""Model files: loading conventions, validation errors, shape/expression split, keypoint map."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from body_models import model_file
from body_models.keypoint_map import FINGERTIP_VERTEX_IDS
from body_models.model_file import load_model_file, resolve_model_path
from body_models.synthetic import random_model_arrays, random_model_file
from wholebody.keypoints import COCO_WHOLEBODY, SMPLX


def test_random_model_layout(random_model):
    m = random_model
    assert m.num_vertices >= 10475
    assert m.shapedirs.shape == (m.num_vertices, 3, 10) and m.exprdirs.shape[2] == 10
    assert m.posedirs.shape == (m.num_vertices, 3, 486)
    assert m.J_regressor.shape == (55, m.num_vertices) and m.weights.shape == (m.num_vertices, 55)
    np.testing.assert_allclose(m.weights.sum(1), 1.0, atol=1e-6)
    assert tuple(m.parents) == SMPLX.parents
    assert m.kpt_joint_ids.shape == (133,) and m.kpt_bary.shape == (133, 3)


def test_default_keypoint_map_by_name(random_model):
    m = random_model
    for name in ("left_shoulder", "right_knee", "left_wrist"):
        assert m.kpt_joint_ids[COCO_WHOLEBODY.index(name)] == SMPLX.index(name)
    assert m.kpt_joint_ids[COCO_WHOLEBODY.index("left_hand_root")] == SMPLX.index("left_wrist")
    assert m.kpt_joint_ids[COCO_WHOLEBODY.index("right_forefinger2")] == SMPLX.index("right_index2")
    tip = COCO_WHOLEBODY.index("left_thumb4")
    assert m.kpt_joint_ids[tip] == -1
    face = m.faces[m.kpt_face_ids[tip]]
    assert face[np.argmax(m.kpt_bary[tip])] == FINGERTIP_VERTEX_IDS["left"]["thumb"]
    surf = m.kpt_joint_ids < 0
    np.testing.assert_allclose(m.kpt_bary[surf].sum(1), 1.0, atol=1e-6)
    # the 51 static landmarks are face-17..face-67 in order
    i17 = COCO_WHOLEBODY.index("face-17")
    np.testing.assert_array_equal(m.kpt_face_ids[i17 : i17 + 51], m.lmk_faces_idx)


def test_folder_conventions(tmp_path):
    random_model_file(tmp_path / "models", seed=1)
    direct = tmp_path / "models" / "smplx" / "SMPLX_NEUTRAL.npz"
    assert resolve_model_path(tmp_path / "models") == direct
    assert resolve_model_path(tmp_path / "models" / "smplx") == direct
    assert load_model_file(direct).path == str(direct)


def test_missing_gender_file_names_path_and_source(tmp_path):
    random_model_file(tmp_path / "models", seed=1)
    with pytest.raises(ValueError, match="SMPLX_FEMALE.npz") as err:
        load_model_file(tmp_path / "models", gender="female")
    assert "smpl-x.is.tue.mpg.de" in str(err.value)
    with pytest.raises(ValueError, match="gender"):
        load_model_file(tmp_path / "models", gender="robot")
    with pytest.raises(ValueError, match="does not exist"):
        load_model_file(tmp_path / "nowhere.npz")


def test_missing_open_model_names_file(monkeypatch, tmp_path):
    monkeypatch.setattr(model_file, "OPEN_MODEL_FILE", tmp_path / "smplx" / "SMPLX_NEUTRAL.npz")
    with pytest.raises(ValueError, match="SMPLX_NEUTRAL.npz"):
        load_model_file("open")


def _write(tmp_path, arrays, name="m.npz"):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


@pytest.fixture(scope="module")
def arrays():
    return random_model_arrays(seed=2)


@pytest.mark.parametrize("key", ["v_template", "J_regressor", "kintree_table", "lmk_bary_coords"])
def test_missing_key(tmp_path, arrays, key):
    bad = {k: v for k, v in arrays.items() if k != key}
    with pytest.raises(ValueError, match=f"missing key '{key}'"):
        load_model_file(_write(tmp_path, bad))


@pytest.mark.parametrize(
    "key,shape",
    [("posedirs", (10475, 3, 480)), ("weights", (10475, 54)), ("J_regressor", (54, 10475)),
     ("hands_componentsl", (45, 12)), ("shapedirs", (10475, 3, 12))],
)  # fmt: skip
def test_wrong_shape(tmp_path, arrays, key, shape):
    bad = dict(arrays)
    bad[key] = np.zeros(shape)
    with pytest.raises(ValueError, match=key):
        load_model_file(_write(tmp_path, bad))


def test_nan_and_bad_parents(tmp_path, arrays):
    bad = dict(arrays)
    bad["v_template"] = arrays["v_template"].copy()
    bad["v_template"][3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        load_model_file(_write(tmp_path, bad))
    bad = dict(arrays)
    bad["kintree_table"] = arrays["kintree_table"].copy()
    bad["kintree_table"][0, 5] = 40
    with pytest.raises(ValueError, match="parent"):
        load_model_file(_write(tmp_path, bad))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="readable"):
        load_model_file(tmp_path / "junk.npz")


def test_shape_expression_split_400(tmp_path):
    path = random_model_file(tmp_path / "big.npz", num_shape=300, num_expr=100, seed=4)
    m = load_model_file(path)
    assert m.num_betas == 300 and m.num_expression == 100
    raw = np.load(path)["shapedirs"]
    np.testing.assert_array_equal(m.exprdirs, raw[..., 300:].astype(np.float64))


def test_pickle_with_sparse_regressor(tmp_path, arrays):
    import scipy.sparse

    data = dict(arrays)
    data["J_regressor"] = scipy.sparse.csc_matrix(arrays["J_regressor"])
    path = tmp_path / "SMPLX_NEUTRAL.pkl"
    path.write_bytes(pickle.dumps(data))
    m = load_model_file(path)
    np.testing.assert_allclose(m.J_regressor, arrays["J_regressor"])


def test_keypoint_map_keys_in_file(tmp_path, arrays):
    data = dict(arrays)
    data["coco_wholebody_joint_ids"] = np.zeros(133, np.int64)
    data["coco_wholebody_face_ids"] = np.full(133, -1, np.int64)
    data["coco_wholebody_bary"] = np.zeros((133, 3))
    m = load_model_file(_write(tmp_path, data))
    assert np.all(m.kpt_joint_ids == 0)
    del data["coco_wholebody_bary"]
    with pytest.raises(ValueError, match="keypoint map incomplete"):
        load_model_file(_write(tmp_path, data, "b.npz"))

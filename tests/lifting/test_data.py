"""Loaders on small generated files in VideoPose3D / MotionBERT layouts, clips, flips, cameras."""

import pickle

import numpy as np
import pytest

from lifting.data import (
    TEST_SUBJECTS,
    flip_pose,
    ground_truth_camera_frame,
    h36m_camera,
    h36m_sequences,
    load_h36m_2d,
    load_h36m_3d,
    load_motionbert_pkl,
    make_clips,
    mocap32_to_h36m17,
    parse_source,
    random_flip,
    virtual_camera_sequences,
)
from lifting.data.h36m_cameras import CAMERA_IDS, project_h36m
from wholebody.keypoints import H36M


def _mocap(rng, n):
    """A person near the world origin (z up, ~1 m above the floor) with 32 joints."""
    return (rng.normal(0, 0.3, (n, 32, 3)) + [0.0, 0.0, 1.0]).astype(np.float32)


def _to_cam(mocap, subject, cam):
    return h36m_camera(subject, cam).world_to_camera(mocap32_to_h36m17(mocap.astype(np.float64)))


@pytest.fixture
def h36m_dir(tmp_path):
    rng = np.random.default_rng(0)
    pos3d = {
        "S9": {"Directions 1": _mocap(rng, 12), "Walking": _mocap(rng, 7)},
        "S11": {"Directions": _mocap(rng, 5), "Directions 1": _mocap(rng, 9)},
    }
    np.savez_compressed(tmp_path / "data_3d_h36m.npz", positions_3d=pos3d)
    pos2d = {
        s: {
            a: [
                # VideoPose3D's lens model; 2D tracks may be longer than the mocap
                project_h36m(_to_cam(p, s, c), s, c).astype(np.float32)[
                    np.r_[np.arange(len(p)), len(p) - 1]
                ]
                for c in range(4)
            ]
            for a, p in acts.items()
        }
        for s, acts in pos3d.items()
    }
    meta = {"layout_name": "h36m", "num_joints": 17, "keypoints_symmetry": [[4], [1]]}
    np.savez_compressed(tmp_path / "data_2d_h36m_gt.npz", positions_2d=pos2d, metadata=meta)
    return tmp_path, pos3d


def test_videopose3d_npz_roundtrip(h36m_dir):
    d, pos3d = h36m_dir
    data3d = load_h36m_3d(d / "data_3d_h36m.npz")
    assert set(data3d) == {"S9", "S11"} and data3d["S9"]["Walking"].shape == (7, 32, 3)
    data2d, meta = load_h36m_2d(d / "data_2d_h36m_gt.npz")
    assert meta["num_joints"] == 17 and len(data2d["S9"]["Walking"]) == 4
    seqs = h36m_sequences(data3d, data2d, TEST_SUBJECTS)
    names = {s.name for s in seqs}
    # S11 "Directions" is excluded as in VideoPose3D; 3 remaining actions x 4 cameras
    assert len(seqs) == 12 and "S11/Directions/0" not in names and "S9/Walking/3" in names
    seq = next(s for s in seqs if s.name == "S9/Directions 1/2")
    assert seq.action == "Directions" and len(seq) == 12  # 2D truncated to the mocap
    assert (seq.width, seq.height) == (1000, 1000)
    # 3D is in the camera frame in front of the camera; reprojection matches the 2D file
    assert np.all(seq.keypoints3d[..., 2] > 2.0)
    # OpenCV's tangential terms differ from VideoPose3D's by < 1 px (0.7 px measured here)
    np.testing.assert_allclose(seq.camera.project(seq.keypoints3d), seq.keypoints2d, atol=1.0)
    # without 2D files: projected ground truth
    gt_seqs = h36m_sequences(data3d, None, ["S9"], cameras=[1])
    np.testing.assert_allclose(
        gt_seqs[0].keypoints2d, data2d["S9"]["Directions 1"][1][:12], atol=1e-2
    )
    gt = ground_truth_camera_frame(data3d)
    np.testing.assert_allclose(gt["S9/Directions 1/2"], seq.keypoints3d, atol=1e-5)


def test_mocap_32_to_17_by_name():
    x = np.arange(32 * 3, dtype=float).reshape(32, 3)
    y = mocap32_to_h36m17(x)
    assert y.shape == (17, 3)
    np.testing.assert_array_equal(y[H36M.index("left_wrist")], x[19])
    np.testing.assert_array_equal(y[H36M.index("thorax")], x[13])
    with pytest.raises(ValueError, match="32"):
        mocap32_to_h36m17(np.zeros((17, 3)))


def test_h36m_camera_world_roundtrip():
    cam = h36m_camera("S1", 0)
    assert cam.width == 1000 and cam.height == 1002 and cam.dist is not None
    p = np.array([[0.1, -0.2, 1.0]])
    np.testing.assert_allclose(cam.camera_to_world(cam.world_to_camera(p)), p, atol=1e-12)
    # camera centre (1841 mm, 4955 mm, 1563 mm) maps to the camera origin
    np.testing.assert_allclose(
        cam.world_to_camera([[1.8411070556640625, 4.95528466796875, 1.5634454345703125]]),
        0,
        atol=1e-9,
    )
    with pytest.raises(ValueError, match="subject"):
        h36m_camera("S2", 0)
    with pytest.raises(ValueError, match="0-3"):
        h36m_camera("S1", 4)


def test_videopose3d_bad_files(tmp_path):
    with pytest.raises(ValueError, match="missing file.*Human3.6M"):
        load_h36m_3d(tmp_path / "nope.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable npz"):
        load_h36m_3d(tmp_path / "junk.npz")
    np.savez(tmp_path / "wrongkey.npz", positions=np.zeros(3))
    with pytest.raises(ValueError, match="positions_3d"):
        load_h36m_3d(tmp_path / "wrongkey.npz")
    np.savez(tmp_path / "shape.npz", positions_3d={"S9": {"Walking": np.zeros((4, 17, 3))}})
    with pytest.raises(ValueError, match=r"\(N, 32, 3\)"):
        load_h36m_3d(tmp_path / "shape.npz")
    bad = np.zeros((4, 32, 3))
    bad[0, 0, 0] = np.nan
    np.savez(tmp_path / "nan.npz", positions_3d={"S9": {"Walking": bad}})
    with pytest.raises(ValueError, match="finite"):
        load_h36m_3d(tmp_path / "nan.npz")
    np.savez(tmp_path / "cams.npz", positions_2d={"S9": {"Walking": [np.zeros((4, 17, 2))] * 3}})
    with pytest.raises(ValueError, match="4 cameras"):
        load_h36m_2d(tmp_path / "cams.npz")


def _motionbert_split(rng, sources, test):
    n = len(sources)
    cams = [CAMERA_IDS[int(s[-2:]) - 1] for s in sources]
    split = {
        "joint_2d": rng.uniform(0, 1000, (n, 17, 2)).astype(np.float32),
        "confidence": rng.uniform(0, 1, (n, 17, 1)).astype(np.float32),
        "joint3d_image": rng.uniform(0, 1000, (n, 17, 3)).astype(np.float32),
        "camera_name": np.array(cams),
        "source": list(sources),
    }
    if test:
        split["action"] = ["Greeting"] * n
        split["2.5d_factor"] = rng.uniform(4, 5, n)
        split["joints_2.5d_image"] = rng.normal(size=(n, 17, 3))
    return split


def test_motionbert_pkl(tmp_path):
    rng = np.random.default_rng(1)
    srcs = ["s_01_act_02_subact_01_ca_01"] * 5 + ["s_01_act_02_subact_01_ca_04"] * 3
    test = ["s_09_act_05_subact_02_ca_02"] * 4
    raw = {"train": _motionbert_split(rng, srcs, False), "test": _motionbert_split(rng, test, True)}
    path = tmp_path / "h36m_sh_conf_cam_source_final.pkl"
    path.write_bytes(pickle.dumps(raw))
    data = load_motionbert_pkl(path)
    tr, te = data["train"], data["test"]
    assert len(tr) == 8 and tr.confidence.shape == (8, 17) and te.factor_2_5d.shape == (4,)
    assert te.sequence_name(0) == "s_09_act_05_subact_02"
    x = tr.normalized_input()
    assert x.shape == (8, 17, 3)
    # camera 60457274 is 1000 x 1002: y' = 2 y / 1000 - 1.002
    np.testing.assert_allclose(
        x[5, :, 1], raw["train"]["joint_2d"][5, :, 1] / 500 - 1.002, rtol=1e-5
    )
    np.testing.assert_allclose(x[..., 2], raw["train"]["confidence"][..., 0])
    y = tr.normalized_target()
    np.testing.assert_allclose(y[..., 2], raw["train"]["joint3d_image"][..., 2] / 500, rtol=1e-5)
    assert parse_source("s_09_act_05_subact_02_ca_01") == ("S9", 5, 2, 1)
    with pytest.raises(ValueError, match="s_SS"):
        parse_source("S9_Greeting")


def test_motionbert_bad_files(tmp_path):
    with pytest.raises(ValueError, match="missing file.*MotionBERT"):
        load_motionbert_pkl(tmp_path / "none.pkl")
    (tmp_path / "junk.pkl").write_bytes(b"\x80\x04garbage")
    with pytest.raises(ValueError, match="not a readable pickle"):
        load_motionbert_pkl(tmp_path / "junk.pkl")
    (tmp_path / "list.pkl").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(ValueError, match="'train' and 'test'"):
        load_motionbert_pkl(tmp_path / "list.pkl")
    rng = np.random.default_rng(2)
    srcs = ["s_01_act_02_subact_01_ca_01"] * 3
    raw = {
        "train": _motionbert_split(rng, srcs, False),
        "test": _motionbert_split(rng, srcs, False),
    }
    (tmp_path / "nokeys.pkl").write_bytes(pickle.dumps(raw))
    with pytest.raises(ValueError, match="missing keys.*2.5d_factor"):
        load_motionbert_pkl(tmp_path / "nokeys.pkl")
    raw["test"] = _motionbert_split(rng, srcs, True)
    raw["train"]["joint_2d"] = raw["train"]["joint_2d"][:2]
    (tmp_path / "len.pkl").write_bytes(pickle.dumps(raw))
    with pytest.raises(ValueError, match="joint_2d expected shape"):
        load_motionbert_pkl(tmp_path / "len.pkl")


def test_flip_is_an_involution_and_swaps_by_name():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 5, 17, 3))
    f = flip_pose(x)
    np.testing.assert_array_equal(flip_pose(f), x)
    li, ri = H36M.index("left_wrist"), H36M.index("right_wrist")
    np.testing.assert_array_equal(f[..., ri, 0], -x[..., li, 0])
    np.testing.assert_array_equal(f[..., ri, 1:], x[..., li, 1:])
    np.testing.assert_array_equal(f[..., H36M.index("pelvis"), 0], -x[..., 0, 0])
    xi, yi = random_flip(x, x + 1, np.random.default_rng(0), p=1.0)
    np.testing.assert_array_equal(xi, f)
    with pytest.raises(ValueError, match="17"):
        flip_pose(np.zeros((3, 16, 2)))


def test_virtual_cameras_and_clips():
    rng = np.random.default_rng(4)
    world = [rng.normal(0, 0.3, (30, 17, 3)) + [0, 1, 0]]
    seqs = virtual_camera_sequences(world, 3, rng)
    assert len(seqs) == 3
    for s in seqs:
        assert np.all(s.keypoints3d[..., 2] > 1.0)
        np.testing.assert_allclose(s.camera.project(s.keypoints3d), s.keypoints2d, atol=1e-3)
        inside = (s.keypoints2d >= 0) & (s.keypoints2d < 1000)
        assert inside.mean() > 0.95
    data = make_clips(seqs, 9, 9, tail="resample")
    assert data.inputs.shape == (3 * 4, 9, 17, 3)
    np.testing.assert_allclose(data.targets[..., H36M.index("pelvis"), :], 0.0)
    with pytest.raises(ValueError, match=r"\(T, J, 3\)"):
        virtual_camera_sequences([np.zeros((4, 17))], 1, rng)


def test_root_for_sets_without_a_root_joint():
    from lifting.data import root_indices, root_relative
    from wholebody.keypoints import COCO_WHOLEBODY

    assert list(root_indices(H36M)) == [H36M.index("pelvis")]
    hips = root_indices(COCO_WHOLEBODY)
    assert [COCO_WHOLEBODY.names[i] for i in hips] == ["left_hip", "right_hip"]
    x = np.random.default_rng(0).normal(size=(2, 133, 3))
    r = root_relative(x, COCO_WHOLEBODY)
    np.testing.assert_allclose(r[:, hips].mean(axis=1), 0.0, atol=1e-12)


def test_videopose3d_lens_model_hand_value():
    from lifting.data.h36m_cameras import INTRINSICS

    fx, fy, cx, cy, k1, k2, k3, p1, p2, _, _ = INTRINSICS[CAMERA_IDS[2]]
    x, y = 0.1, -0.2
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    tan = p1 * x + p2 * y
    expect = [fx * (x * (radial + tan) + p1 * r2) + cx, fy * (y * (radial + tan) + p2 * r2) + cy]
    np.testing.assert_allclose(project_h36m([[2 * x, 2 * y, 2.0]], "S5", 2)[0], expect)
    with pytest.raises(ValueError, match="in front"):
        project_h36m([[0.0, 0.0, -1.0]], "S5", 2)

"""Per-action averaging on hand-made examples, both frame schemes, exclusions, bad input."""

import numpy as np
import pytest

from lifting.protocol import action_table, evaluate_sequences, frame_errors


def _seq(n, offset):
    """Ground truth zeros (root-relative) and a prediction whose non-root joints are shifted."""
    gt = np.zeros((n, 17, 3))
    pred = np.zeros((n, 17, 3))
    pred[:, 1:, 0] = offset  # 16 of 17 joints off by `offset`
    return pred, gt


def test_frame_weighted_within_action_unweighted_over_actions():
    # action A: 2 frames with error 16/17*1 and 6 frames with 16/17*3 -> frame-weighted mean
    # action B: 4 frames with error 16/17*10. Average over actions is unweighted.
    p1, g1 = _seq(2, 1.0)
    p2, g2 = _seq(6, 3.0)
    p3, g3 = _seq(4, 10.0)
    preds = {"S9/A/0": p1, "S9/A 1/0": p2, "S11/B/0": p3}
    gts = {"S9/A/0": g1, "S9/A 1/0": g2, "S11/B/0": g3}
    actions = {"S9/A/0": "A", "S9/A 1/0": "A", "S11/B/0": "B"}
    table = evaluate_sequences(preds, gts, actions, metrics=("mpjpe",))
    k = 16 / 17
    assert table.actions == ("A", "B") and table.frames == {"A": 8, "B": 4}
    np.testing.assert_allclose(table.errors["mpjpe"]["A"], k * (2 * 1 + 6 * 3) / 8)
    np.testing.assert_allclose(table.errors["mpjpe"]["B"], k * 10)
    np.testing.assert_allclose(table.average("mpjpe"), k * (2.5 + 10) / 2)
    text = table.format(scale=1.0)
    assert "Average" in text and "mpjpe" in text
    # exclusion by prefix drops a sequence
    table = evaluate_sequences(preds, gts, actions, metrics=("mpjpe",), exclude=("S9/A 1/",))
    np.testing.assert_allclose(table.errors["mpjpe"]["A"], k * 1)


def test_root_relative_and_p_mpjpe():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(5, 17, 3))
    pred = gt + [1.0, 2.0, 3.0]  # a global translation is removed by root-relative scoring
    errs = frame_errors(pred, gt, metrics=("mpjpe", "p_mpjpe", "n_mpjpe"))
    for v in errs.values():
        np.testing.assert_allclose(v, 0.0, atol=1e-9)


def test_motionbert_clip_scheme():
    n, clip = 10, 4
    gt = np.zeros((n, 17, 3))
    pred = np.zeros((n, 17, 3))
    pred[:, 1:, 0] = np.arange(n)[:, None]  # frame error grows with the frame index
    e = frame_errors(pred, gt, scheme="motionbert", clip_len=clip, metrics=("mpjpe",))["mpjpe"]
    # clips [0..3], [4..7]; the tail 8, 9 is not scored
    assert np.all(np.isfinite(e[:8])) and np.all(np.isnan(e[8:]))
    np.testing.assert_allclose(e[:8], np.arange(8) * 16 / 17)
    # a sequence shorter than a clip is resampled; repeated frames are averaged (not doubled)
    e = frame_errors(pred[:3], gt[:3], scheme="motionbert", clip_len=clip, metrics=("mpjpe",))
    np.testing.assert_allclose(e["mpjpe"], np.arange(3) * 16 / 17)
    # clip-wise predictions: frame 0 appears twice ([0, 0, 1, 2]) with errors 1 and 3 -> 2
    clips = np.zeros((1, clip, 17, 3))
    clips[0, :, 1:, 0] = np.array([1.0, 3.0, 0.0, 0.0])[:, None]
    e = frame_errors(clips, gt[:3], scheme="motionbert", clip_len=clip, metrics=("mpjpe",))
    np.testing.assert_allclose(e["mpjpe"], [2 * 16 / 17, 0, 0])
    table = action_table({"s": {"mpjpe": np.array([1.0, np.nan, 3.0])}}, {"s": "X"})
    assert table.frames == {"X": 2} and table.errors["mpjpe"]["X"] == 2.0


def test_bad_input():
    gt = {"S9/A/0": np.zeros((4, 17, 3))}
    actions = {"S9/A/0": "A"}
    with pytest.raises(ValueError, match="missing 1 sequences"):
        evaluate_sequences({}, gt, actions)
    with pytest.raises(ValueError, match="finite"):
        evaluate_sequences({"S9/A/0": np.full((4, 17, 3), np.nan)}, gt, actions)
    with pytest.raises(ValueError, match="expected shape"):
        evaluate_sequences({"S9/A/0": np.zeros((3, 17, 3))}, gt, actions)
    with pytest.raises(ValueError, match="scheme"):
        frame_errors(gt["S9/A/0"], gt["S9/A/0"], scheme="mixste")
    with pytest.raises(ValueError, match="metrics"):
        frame_errors(gt["S9/A/0"], gt["S9/A/0"], metrics=("pck",))
    # longer predictions (2D a few frames longer than the mocap) are truncated
    table = evaluate_sequences({"S9/A/0": np.zeros((6, 17, 3))}, gt, actions)
    assert table.frames == {"A": 4}


def test_motionbert_pickle_evaluation(tmp_path):
    import pickle

    from lifting.data import load_motionbert_pkl, motionbert_split_clips
    from lifting.protocol import evaluate_motionbert_split

    rng = np.random.default_rng(0)
    sources = ["s_09_act_02_subact_01_ca_01"] * 6 + ["s_09_act_05_subact_02_ca_02"] * 4
    sources += ["s_11_act_03_subact_01_ca_03"] * 5
    n = len(sources)
    cams = {"01": "54138969", "02": "55011271", "03": "58860488"}
    kp3 = rng.uniform(100, 900, (n, 17, 3)).astype(np.float32)
    factor = rng.uniform(4, 5, n)
    split = {
        "joint_2d": kp3[..., :2],
        "confidence": np.ones((n, 17), np.float32),
        "joint3d_image": kp3,
        "camera_name": [cams[s[-2:]] for s in sources],
        "source": sources,
        "action": ["Directions"] * 6 + ["Greeting"] * 4 + ["Discussion"] * 5,
        "2.5d_factor": factor,
        "joints_2.5d_image": kp3 * factor[:, None, None],
    }
    path = tmp_path / "mb.pkl"
    path.write_bytes(pickle.dumps({"train": split, "test": split}))
    test = load_motionbert_pkl(path)["test"]
    idx = motionbert_split_clips(test.source, 4, 4)
    pred = test.normalized_target()[idx]
    table = evaluate_motionbert_split(test, pred, idx)
    # Greeting's only sequence is in MotionBERT's exclusion list
    assert table.actions == ("Directions", "Discussion")
    np.testing.assert_allclose(table.average("mpjpe"), 0.0, atol=1e-3)  # float32 inputs, mm
    assert table.frames == {"Directions": 4, "Discussion": 4}  # tails after full clips dropped
    # shift one joint's network-space depth by d: error = d * w / 2 * factor / 17 per frame
    d = 0.01
    pred[..., 5, 2] += d
    table = evaluate_motionbert_split(test, pred, idx, metrics=("mpjpe",))
    expect = d * 500 * factor[:4].mean() / 17
    np.testing.assert_allclose(table.errors["mpjpe"]["Directions"], expect, atol=1e-3)
    with pytest.raises(ValueError, match="pred_clips"):
        evaluate_motionbert_split(test, pred[:1], idx)

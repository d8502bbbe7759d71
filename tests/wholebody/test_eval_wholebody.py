import json
from pathlib import Path

import numpy as np
import pytest

from wholebody.evaluation.cocoeval_wholebody import PARTS, evaluate_wholebody
from wholebody.evaluation.oks import oks_matrix, oks_pairs
from wholebody.evaluation.results_io import arrays_from_records, records_from_arrays
from wholebody.evaluation.synthetic_set import fingerprint, make_eval_set
from wholebody.keypoints import COCO_WHOLEBODY

EXPECTED = json.loads((Path(__file__).parent / "data" / "expected_eval.json").read_text())


@pytest.mark.parametrize("case", sorted(EXPECTED["cases"]))
def test_parity_with_xtcocotools(case):
    """Numbers produced by xtcocotools 1.14.3 (tests/wholebody/data/make_expected_eval.py)."""
    spec = EXPECTED["cases"][case]
    gt, results = make_eval_set(**spec["kwargs"])
    assert fingerprint(gt, results) == spec["sha256"], "synthetic set changed: regenerate fixture"
    metrics = evaluate_wholebody(gt, results)
    assert set(metrics) == set(PARTS)
    for part, stats in spec["metrics"].items():
        for name, value in stats.items():
            assert metrics[part][name] == pytest.approx(value, abs=1e-6), (part, name)
    # the fixture is not degenerate
    aps = [spec["metrics"][p]["AP"] for p in PARTS]
    assert 0.05 < min(aps) and max(aps) < 0.9


def test_perfect_predictions_give_ap_one(tmp_path):
    gt, _ = make_eval_set(num_images=20, seed=3)
    anns = [a for a in gt["annotations"] if not a["iscrowd"]]
    recs = arrays_from_records(
        [{**a, "score": 1.0, "category_id": 1} for a in anns]
    )  # gt part fields read as (x, y, v)
    # unlabelled keypoints get score 0: a part with none is dropped from that part's pass
    scores = (recs["scores"] > 0).astype(float)
    results = records_from_arrays(recs["image_ids"], recs["keypoints"], scores, np.ones(len(anns)))
    metrics = evaluate_wholebody(gt, results)
    for part in PARTS:
        assert metrics[part]["AP"] == pytest.approx(1.0)
        assert metrics[part]["AR"] == pytest.approx(1.0)


def test_oks_known_values():
    sig = np.array([0.1, 0.05])
    gt = np.array([[[10.0, 10.0, 2.0], [20.0, 20.0, 0.0]]])
    dt = np.array([[[13.0, 14.0], [0.0, 0.0]]])
    # only the labelled keypoint counts: exp(-25 / (0.2^2) / (100 + eps) / 2)
    expected = np.exp(-25 / 0.04 / 100 / 2)
    np.testing.assert_allclose(oks_pairs(dt, gt, [100.0], [[0, 0, 10, 10]], sig), [expected])
    # no labelled keypoints: distance to the enlarged box [x-w, x+2w] x [y-h, y+2h]
    gt0 = np.zeros((1, 2, 3))
    dt0 = np.array([[[5.0, 5.0], [25.0, 5.0]]])  # inside, and 5 px right of x + 2w = 20
    e = np.array([0.0, 25 / 0.01 / 100 / 2])
    np.testing.assert_allclose(
        oks_pairs(dt0, gt0, [100.0], [[0, 0, 10, 10]], sig), [np.exp(-e).mean()]
    )
    m = oks_matrix(
        np.concatenate([dt, dt0]),
        np.concatenate([gt, gt0]),
        [100.0, 100.0],
        [[0, 0, 10, 10]] * 2,
        sig,
    )
    assert m.shape == (2, 2)
    assert m[0, 0] == pytest.approx(expected)


def test_sigmas_match_reference():
    parts = COCO_WHOLEBODY.parts
    assert COCO_WHOLEBODY.sigmas[parts["body"]][0] == 0.026
    np.testing.assert_array_equal(
        COCO_WHOLEBODY.sigmas[parts["left_hand"]], COCO_WHOLEBODY.sigmas[parts["right_hand"]]
    )


def test_bad_inputs(tmp_path):
    gt, results = make_eval_set(num_images=5, seed=1)
    with pytest.raises(ValueError, match="unknown image ids"):
        evaluate_wholebody(gt, [{**results[0], "image_id": 123456}])
    with pytest.raises(ValueError, match="'face_kpts' expected 204 numbers"):
        evaluate_wholebody(gt, [{**results[0], "face_kpts": [0.0] * 10}])
    with pytest.raises(ValueError, match="not found"):
        evaluate_wholebody(tmp_path / "missing.json", results)
    no_area = {
        **gt,
        "annotations": [{k: v for k, v in a.items() if k != "area"} for a in gt["annotations"]],
    }
    with pytest.raises(ValueError, match="'area'"):
        evaluate_wholebody(no_area, results)
    # no predictions at all: AP 0 where ground truth exists
    empty = evaluate_wholebody(gt, [])
    assert empty["body"]["AP"] == 0.0 and empty["body"]["AR"] == 0.0


def test_non_finite_results_are_rejected():
    gt, results = make_eval_set(num_images=5, seed=1)
    nan_kpt = {**results[0], "keypoints": [float("nan")] + results[0]["keypoints"][1:]}
    with pytest.raises(ValueError, match="result 0: keypoints must be finite"):
        evaluate_wholebody(gt, [nan_kpt])
    with pytest.raises(ValueError, match="score must be finite"):
        evaluate_wholebody(gt, [{**results[0], "score": float("inf")}])

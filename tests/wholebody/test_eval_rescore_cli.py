import json

import numpy as np
import pytest

from experiments.eval_coco_wholebody import main as eval_main
from wholebody.evaluation.rescore import (
    keypoint_areas,
    oks_nms,
    rescore_and_nms,
    rescore_bbox_keypoint,
)
from wholebody.evaluation.results_io import records_from_arrays
from wholebody.evaluation.synthetic_set import make_eval_set


def test_rescore_bbox_keypoint_hand_values():
    ks = np.array([[0.1, 0.5, 0.9], [0.1, 0.2, 0.15]])
    out = rescore_bbox_keypoint(np.array([0.8, 0.9]), ks)
    np.testing.assert_allclose(out, [0.8 * 0.7, 0.0])  # 0.2 itself does not pass (> thr)
    with pytest.raises(ValueError, match="expected box_scores"):
        rescore_bbox_keypoint(np.ones(3), ks)


def test_oks_nms_drops_near_duplicates_only():
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 100, (5, 2))
    kpts = np.stack([base, base + 0.1, base + 40.0])  # 0 and 1 duplicate, 2 far away
    areas = keypoint_areas(kpts)
    assert areas[0] == pytest.approx(np.prod(base.max(0) - base.min(0)))
    sig = np.full(5, 0.05)
    keep = oks_nms(kpts, np.array([0.5, 0.9, 0.7]), areas, sig, 0.9)
    assert keep.tolist() == [1, 2]
    assert oks_nms(kpts[:0], np.zeros(0), areas[:0], sig).shape == (0,)


def test_rescore_and_nms_records():
    rng = np.random.default_rng(1)
    k = rng.uniform(0, 200, (1, 133, 2))
    kpts = np.concatenate([k, k + 0.01, k + 100])
    sc = np.full((3, 133), 0.5)
    recs = records_from_arrays([1, 1, 2], kpts, sc, [0.9, 0.8, 0.7])
    out = rescore_and_nms(recs)
    assert [r["image_id"] for r in out] == [1, 2]
    assert [r["score"] for r in out] == pytest.approx([0.45, 0.35])
    assert len(rescore_and_nms(recs, nms_threshold=None)) == 3
    # explicit (tiny) areas make the near-duplicates distinct under OKS
    tiny = [{**r, "area": 1e-4} for r in recs]
    assert len(rescore_and_nms(tiny)) == 3


def test_cli_writes_metrics(tmp_path, capsys):
    gt, results = make_eval_set(num_images=12, seed=2)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "res.json").write_text(json.dumps(results))
    out = tmp_path / "m.json"
    argv = ["--gt", str(tmp_path / "gt.json"), "--results", str(tmp_path / "res.json")]
    assert eval_main([*argv, "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "wholebody" in table and "left_hand" in table
    metrics = json.loads(out.read_text())
    assert set(metrics) == {"body", "foot", "face", "left_hand", "right_hand", "wholebody"}
    assert 0 <= metrics["body"]["AP"] <= 1
    assert eval_main([*argv, "--rescore", "--out", str(tmp_path / "r.json")]) == 0
    with pytest.raises(ValueError, match="not found"):
        eval_main(["--gt", str(tmp_path / "gt.json"), "--results", str(tmp_path / "no.json")])


def test_cli_model_mode_with_flip_test(tmp_path):
    import torch

    from wholebody.checkpoint import save_model
    from wholebody.data.synthetic import make_synthetic_dataset
    from wholebody.models import create_model

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ann = make_synthetic_dataset(tmp_path / "d", num_images=2, seed=4, image_size=(96, 96))
        torch.manual_seed(0)
        save_model(create_model("rtmpose-tiny-test", input_size=(64, 64)), tmp_path / "w")
        res = tmp_path / "res.json"
        argv = ["--gt", str(ann), "--model", str(tmp_path / "w"), "--flip-test",
                "--save-results", str(res), "--out", str(tmp_path / "m.json")]  # fmt: skip
        assert eval_main(argv) == 0
    finally:
        torch.set_num_threads(threads)
    people = len(json.loads(ann.read_text())["annotations"])
    assert len(json.loads(res.read_text())) == people
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert 0 <= metrics["body"]["AP"] <= 1  # parts without labels in view report -1
    assert all(-1 <= m["AP"] <= 1 for m in metrics.values())

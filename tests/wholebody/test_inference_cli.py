"""predict_wholebody command line: inputs, box files, model specs, results format."""

import json

import numpy as np
import pytest
import torch

from experiments.predict_wholebody import load_boxes, main
from wholebody.checkpoint import save_model
from wholebody.evaluation.results_io import arrays_from_records, read_results
from wholebody.inference.loading import load_backend
from wholebody.inference.onnx_export import export_onnx
from wholebody.media import write_image, write_video
from wholebody.models import create_model


@pytest.fixture()
def images(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "imgs"
    for stem in ("000000000139", "000000000785"):
        write_image(folder / f"{stem}.png", rng.integers(0, 255, (60, 80, 3)).astype(np.uint8))
    return folder


def test_folder_with_coco_detections(tmp_path, images, caplog):
    dets = [
        {"image_id": 139, "bbox": [5, 5, 30, 40], "score": 0.9, "category_id": 1},
        {"image_id": 139, "bbox": [40, 10, 30, 45], "score": 0.6, "category_id": 1},
        {"image_id": 785, "bbox": [0, 0, 0, 0], "score": 0.5, "category_id": 1},  # zero area
        {"image_id": 785, "bbox": [10, 10, 20, 20], "score": 0.5, "category_id": 3},  # a car
    ]
    (tmp_path / "dets.json").write_text(json.dumps(dets))
    out = tmp_path / "out"
    rc = main(
        [
            str(images),
            "--out",
            str(out),
            "--model",
            "rtmpose-tiny-test",
            "--boxes",
            str(tmp_path / "dets.json"),
            "--flip-test",
        ]
    )
    assert rc == 0
    assert "RANDOM WEIGHTS" in caplog.text
    recs = read_results(out / "results.json")
    assert [r["image_id"] for r in recs] == [139, 139]
    assert [r["bbox_score"] for r in recs] == [0.9, 0.6]
    arr = arrays_from_records(recs)
    assert arr["keypoints"].shape == (2, 133, 2)
    assert np.all(arr["keypoints"][0, :, 0] >= 5 - 30 * 0.25) and np.all(arr["scores"] >= 0)
    assert len(recs[0]["keypoints"]) == 51 and len(recs[0]["lefthand_kpts"]) == 63
    assert json.loads((out / "config.json").read_text())["flip_test"] is True
    assert json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])["people"] == 2


def test_saved_weights_onnx_and_ort_backend_agree(tmp_path, images):
    torch.manual_seed(0)
    model = create_model("rtmpose-tiny-test")
    save_model(model, tmp_path / "w")
    export_onnx(model, tmp_path / "m.onnx")
    boxes = {"000000000139.png": [[5, 5, 35, 45, 0.8]], "785": [[10, 10, 60, 50]]}
    (tmp_path / "boxes.json").write_text(json.dumps(boxes))
    runs = {}
    for tag, extra in {
        "dir": ["--model", str(tmp_path / "w")],
        "onnx": ["--model", str(tmp_path / "m.onnx")],
        "ort": ["--model", str(tmp_path / "w"), "--backend", "ort"],
    }.items():
        main(
            [
                str(images),
                "--out",
                str(tmp_path / tag),
                "--boxes",
                str(tmp_path / "boxes.json"),
                *extra,
            ]
        )
        runs[tag] = arrays_from_records(read_results(tmp_path / tag / "results.json"))
    assert list(runs["dir"]["image_ids"]) == [139, 785]
    for tag in ("onnx", "ort"):
        np.testing.assert_allclose(runs[tag]["scores"], runs["dir"]["scores"], atol=1e-4)


def test_single_image_whole_image_and_video(tmp_path):
    rng = np.random.default_rng(1)
    write_image(tmp_path / "a.png", rng.integers(0, 255, (64, 48, 3)).astype(np.uint8))
    main([str(tmp_path / "a.png"), "--out", str(tmp_path / "o1"), "--model", "rtmpose-tiny-test"])
    recs = read_results(tmp_path / "o1" / "results.json")
    assert len(recs) == 1 and recs[0]["image_id"] == 0 and recs[0]["bbox_score"] == 1.0
    frames = [rng.integers(0, 255, (64, 64, 3)).astype(np.uint8) for _ in range(3)]
    write_video(tmp_path / "v.mp4", frames, fps=10)
    main(
        [
            str(tmp_path / "v.mp4"),
            "--out",
            str(tmp_path / "o2"),
            "--model",
            "rtmpose-tiny-test",
            "--frames-per-batch",
            "2",
        ]
    )
    assert [r["image_id"] for r in read_results(tmp_path / "o2" / "results.json")] == [0, 1, 2]


def test_bad_inputs(tmp_path, images):
    with pytest.raises(ValueError, match="input not found"):
        main(
            [
                str(tmp_path / "missing.png"),
                "--out",
                str(tmp_path / "o"),
                "--model",
                "rtmpose-tiny-test",
            ]
        )
    with pytest.raises(ValueError, match="neither a preset"):
        load_backend(str(tmp_path / "nope"))
    with pytest.raises(ValueError, match="ONNX model file not found"):
        load_backend(str(tmp_path / "nope.onnx"))
    (tmp_path / "b.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_boxes(str(tmp_path / "b.json"))
    (tmp_path / "b.json").write_text(json.dumps([{"image_id": 1}]))
    with pytest.raises(ValueError, match="bbox"):
        load_boxes(str(tmp_path / "b.json"))
    (tmp_path / "b.json").write_text(json.dumps({"1": [[1, 2, 3]]}))
    with pytest.raises(ValueError, match="x1, y1, x2, y2"):
        load_boxes(str(tmp_path / "b.json"))
    (tmp_path / "nobox.json").write_text(json.dumps({}))
    main(
        [
            str(images),
            "--out",
            str(tmp_path / "o3"),
            "--model",
            "rtmpose-tiny-test",
            "--boxes",
            str(tmp_path / "nobox.json"),
        ]
    )
    assert read_results(tmp_path / "o3" / "results.json") == []  # no detections: empty list


class _FakeYolox(torch.nn.Module):
    """Ignores the pixels; one person at stride-8 cell (3, 3), 24 x 40 px, score 0.9."""

    def __init__(self):
        super().__init__()
        raw = torch.zeros(1, 84, 85)  # 64 x 64 input: 8*8 + 4*4 + 2*2 anchors
        raw[0, 3 * 8 + 3, :4] = torch.tensor([0.5, 0.5, np.log(3.0), np.log(5.0)])
        raw[0, 3 * 8 + 3, 4], raw[0, 3 * 8 + 3, 5] = 0.9, 1.0
        self.raw = torch.nn.Parameter(raw, requires_grad=False)

    def forward(self, images):
        return self.raw + images.sum() * 0


def test_detector_mode(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _FakeYolox(),
            (torch.zeros(1, 3, 64, 64),),
            str(tmp_path / "det.onnx"),
            input_names=["images"],
            output_names=["output"],
            dynamo=False,
        )
    write_image(tmp_path / "a.png", np.full((64, 64, 3), 90, np.uint8))

    def run(detector: str) -> None:
        main([str(tmp_path / "a.png"), "--out", str(tmp_path / "o"), "--model",
              "rtmpose-tiny-test", "--detector", str(tmp_path / detector)])  # fmt: skip

    run("det.onnx")
    recs = read_results(tmp_path / "o" / "results.json")
    assert len(recs) == 1 and recs[0]["bbox_score"] == pytest.approx(0.9)
    with pytest.raises(ValueError, match="not found: .*missing_det.onnx"):
        run("missing_det.onnx")

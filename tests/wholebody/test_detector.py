"""Person detectors: letterbox, YOLOX grid decode + NMS + person class, MMDeploy outputs, errors.

The ONNX files are generated here: tiny graphs that ignore the pixels and emit designed
outputs, so the decoding can be checked against known boxes.
"""

import warnings

import numpy as np
import pytest
import torch

from wholebody.inference.detector import (
    OnnxPersonDetector,
    WholeImageDetector,
    decode_yolox,
    letterbox,
    nms,
)

SIZE = 64  # detector input 64 x 64: anchors 8*8 + 4*4 + 2*2 = 84


class _Constant(torch.nn.Module):
    def __init__(self, *outputs):
        super().__init__()
        self.outs = [torch.nn.Parameter(torch.as_tensor(o), requires_grad=False) for o in outputs]
        for i, o in enumerate(self.outs):
            self.register_parameter(f"o{i}", o)

    def forward(self, images):
        zero = images.sum() * 0
        res = [o + zero.to(o.dtype) for o in self.outs]
        return tuple(res) if len(res) > 1 else res[0]


def _export(module, path, names, input_name="images"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (torch.zeros(1, 3, SIZE, SIZE),),
            str(path),
            input_names=[input_name],
            output_names=names,
            opset_version=17,
            dynamo=False,
        )
    return path


def _yolox_raw(cells):
    """Raw output with boxes at stride-8 cells: (gx, gy, w, h, obj, class, cls_score)."""
    raw = np.zeros((1, 84, 85), np.float32)
    raw[0, :, 2:4] = 0.0
    for gx, gy, w, h, obj, cls, cs in cells:
        a = gy * 8 + gx
        raw[0, a, :2] = 0.5  # centre = (g + 0.5) * 8
        raw[0, a, 2:4] = np.log([w / 8, h / 8])
        raw[0, a, 4] = obj
        raw[0, a, 5 + cls] = cs
    return raw


def test_letterbox_bgr_and_padding():
    img = np.zeros((20, 40, 3), np.uint8)
    img[..., 0], img[..., 1], img[..., 2] = 10, 20, 30  # RGB
    out, r = letterbox(img, (SIZE, SIZE))
    assert r == pytest.approx(1.6) and out.shape == (SIZE, SIZE, 3)
    np.testing.assert_allclose(out[0, 0], [30, 20, 10])  # BGR
    np.testing.assert_allclose(out[40:, :], 114.0)  # bottom padding (32 rows of image)
    with pytest.raises(ValueError, match="non-empty"):
        letterbox(np.zeros((0, 4, 3), np.uint8), (SIZE, SIZE))


def test_decode_yolox_grid_and_nms():
    raw = _yolox_raw([(2, 3, 16, 32, 0.9, 0, 1.0)])[0]
    boxes, scores = decode_yolox(raw, (SIZE, SIZE))
    a = 3 * 8 + 2
    np.testing.assert_allclose(boxes[a], [20 - 8, 28 - 16, 20 + 8, 28 + 16])
    assert scores[a, 0] == pytest.approx(0.9)
    b = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60.0]])
    np.testing.assert_array_equal(nms(b, np.array([0.5, 0.9, 0.3]), 0.45), [1, 2])
    with pytest.raises(ValueError, match="anchors"):
        decode_yolox(raw[:10], (SIZE, SIZE))


def test_yolox_onnx_person_boxes(tmp_path):
    cells = [
        (2, 3, 16, 32, 0.9, 0, 1.0),  # person
        (3, 3, 16, 30, 0.8, 0, 1.0),  # duplicate, moved onto the first centre below
        (6, 1, 8, 8, 0.95, 2, 1.0),  # a car
        (5, 5, 12, 20, 0.5, 0, 0.5),  # weak person, score 0.25 < 0.3
        (4, 6, 10, 10, 0.7, 0, 0.9),  # person 2
    ]
    raw = _yolox_raw(cells)
    raw[0, 3 * 8 + 3, 0] = -0.5  # centre x = (3 - 0.5) * 8 = 20: IoU with the first > 0.45
    path = _export(_Constant(raw), tmp_path / "yolox_fake.onnx", ["output"])
    det = OnnxPersonDetector(path)
    assert det.flavour == "yolox" and det.input_size == (SIZE, SIZE)
    img = np.zeros((32, 32, 3), np.uint8)  # letterbox ratio 2
    boxes, scores = det(img)
    np.testing.assert_allclose(scores, [0.9, 0.63], atol=1e-6)
    np.testing.assert_allclose(boxes[0], np.array([12, 12, 28, 44]) / 2, atol=1e-4)
    np.testing.assert_allclose(boxes[1], np.array([36 - 5, 52 - 5, 36 + 5, 52 + 5]) / 2, atol=1e-4)


def test_mmdeploy_outputs_and_flavours(tmp_path):
    dets = np.array([[[10, 10, 50, 60, 0.9], [0, 0, 5, 5, 0.2], [5, 5, 30, 30, 0.8]]], np.float32)
    labels = np.array([[0, 0, 3]], np.int64)
    path = _export(_Constant(dets, labels), tmp_path / "rtmdet_m.onnx", ["dets", "labels"], "input")
    det = OnnxPersonDetector(path)
    assert det.flavour == "rtmdet"
    batch, r = det.preprocess(np.full((128, 64, 3), 255, np.uint8))
    assert r == 0.5 and batch.shape == (1, 3, SIZE, SIZE)
    np.testing.assert_allclose(
        batch[0, :, 0, 0],
        (255 - np.array([103.53, 116.28, 123.675])) / np.array([57.375, 57.12, 58.395]),
        rtol=1e-5,
    )
    boxes, scores = det(np.zeros((128, 64, 3), np.uint8))
    np.testing.assert_allclose(boxes, [[20, 20, 63, 120]])  # /r, clipped to the image
    np.testing.assert_allclose(scores, [0.9], rtol=1e-6)
    with pytest.raises(ValueError, match="expects 1 outputs"):
        OnnxPersonDetector(path, flavour="yolox")


def test_no_detections_and_missing_file(tmp_path):
    raw = _yolox_raw([])
    path = _export(_Constant(raw), tmp_path / "empty.onnx", ["output"])
    boxes, scores = OnnxPersonDetector(path)(np.zeros((40, 50, 3), np.uint8))
    assert boxes.shape == (0, 4) and scores.shape == (0,)
    with pytest.raises(ValueError, match="not found: .*yolox_l.onnx"):
        OnnxPersonDetector(tmp_path / "yolox_l.onnx")
    b, s = WholeImageDetector()(np.zeros((40, 50, 3), np.uint8))
    np.testing.assert_allclose(b, [[0, 0, 49, 39]]) and np.testing.assert_allclose(s, [1])

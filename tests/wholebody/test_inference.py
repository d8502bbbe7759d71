"""Top-down inference: batching, flip-test equivariance, back-projection, channel order, errors."""

import numpy as np
import pytest
import torch

from tests.wholebody.conftest import perturbed_model
from wholebody.codecs import flip_simcc
from wholebody.crop import box_to_center_scale, fix_aspect_ratio
from wholebody.inference import TopdownPredictor, TorchBackend, WholebodyPipeline
from wholebody.keypoints import COCO_WHOLEBODY
from wholebody.models import create_model


def _model(name):
    return perturbed_model(name, scale=0.05)


@pytest.fixture(scope="module")
def model():
    return _model("rtmpose-tiny-test")


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (120, 160, 3)).astype(np.uint8)


BOXES = np.array([[10.0, 10.0, 80.0, 100.0], [40.0, 20.0, 150.0, 110.0], [0, 0, 159, 119]])


def test_shapes_and_batching_match_one_by_one(model, image):
    pred = TopdownPredictor(TorchBackend(model), batch_size=2)
    res = pred.predict(image, BOXES)
    assert res.keypoints.shape == (3, 133, 2) and res.scores.shape == (3, 133)
    assert res.valid.all()
    for i, box in enumerate(BOXES):
        single = pred.predict(image, box[None])
        np.testing.assert_allclose(single.keypoints[0], res.keypoints[i], atol=1e-3)
        np.testing.assert_allclose(single.scores[0], res.scores[i], rtol=1e-5, atol=1e-4)
    frames = pred.predict_frames([image, image[:, ::-1].copy()], [BOXES[:2], BOXES[2:]])
    np.testing.assert_allclose(frames[0].keypoints, res.keypoints[:2], atol=1e-3)
    assert len(frames) == 2 and frames[1].keypoints.shape == (1, 133, 2)


def test_keypoints_inside_crop_region(model, image):
    res = TopdownPredictor(TorchBackend(model)).predict(image, BOXES[:1])
    center, scale = box_to_center_scale(BOXES[:1], 1.25)
    (cx, cy), (half_w, half_h) = center[0], fix_aspect_ratio(scale, 0.75)[0] / 2
    ok = res.scores[0] > 0
    k = res.keypoints[0][ok]
    assert np.all(np.abs(k[:, 0] - cx) <= half_w + 1e-3)
    assert np.all(np.abs(k[:, 1] - cy) <= half_h + 1e-3)


def test_flip_test_equivariance_in_logit_space(model):
    """simcc(flipped crop) with flip test == flip of simcc(crop) with flip test (exact)."""
    backend = TorchBackend(model)
    x = np.random.default_rng(1).normal(size=(2, 3, 128, 96)).astype(np.float32)
    idx = COCO_WHOLEBODY.flip_indices

    def flip_tested(batch):
        sx, sy = backend(np.concatenate([batch, batch[..., ::-1]]))
        fx, fy = flip_simcc(sx[2:], sy[2:], idx)
        return 0.5 * (sx[:2] + fx), 0.5 * (sy[:2] + fy)

    ax, ay = flip_tested(x)
    bx, by = flip_tested(np.ascontiguousarray(x[..., ::-1]))
    fx, fy = flip_simcc(ax, ay, idx)
    np.testing.assert_allclose(bx, fx, atol=1e-5)
    np.testing.assert_allclose(by, fy, atol=1e-5)


def test_flip_test_predictions_mirror(model):
    """Flipped image + mirrored box: flip-test keypoints mirror exactly with the pair swap.

    The mirrored box is shifted by one source pixel (1 / k, k = crop px per image px) so that
    the crop of the flipped image is exactly the mirrored crop; SimCC bins mirror as
    b -> Wx - 1 - b, so image x maps to W - 1 - x + 0.5 / k.
    """
    rng = np.random.default_rng(2)
    img = rng.integers(0, 255, (128, 96, 3)).astype(np.uint8)
    box = np.array([[10.0, 8.0, 70.0, 120.0]])
    _, scale = box_to_center_scale(box, 1.25)
    k = 96 / fix_aspect_ratio(scale, 0.75)[0, 0]
    mirrored = np.array([[95 - 70.0, 8.0, 95 - 10.0, 120.0]]) + [1 / k, 0, 1 / k, 0]
    pred = TopdownPredictor(TorchBackend(model), flip_test=True)
    a = pred.predict(img, box)
    b = pred.predict(img[:, ::-1].copy(), mirrored)
    idx = COCO_WHOLEBODY.flip_indices
    np.testing.assert_allclose(b.scores[0], a.scores[0][idx], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        b.keypoints[0, :, 0], 95 - a.keypoints[0][idx, 0] + 0.5 / k, atol=1e-3
    )
    np.testing.assert_allclose(b.keypoints[0, :, 1], a.keypoints[0][idx, 1], atol=1e-3)


def test_channel_order_option(model, image):
    rgb = TopdownPredictor(TorchBackend(model)).predict(image, BOXES[:1])
    bgr = TopdownPredictor(TorchBackend(model), channel_order="bgr").predict(image, BOXES[:1])
    swapped = TopdownPredictor(TorchBackend(model)).predict(image[..., ::-1].copy(), BOXES[:1])
    np.testing.assert_allclose(bgr.scores, swapped.scores, rtol=1e-5, atol=1e-4)
    assert np.abs(rgb.scores - bgr.scores).max() > 0.1
    with pytest.raises(ValueError, match="channel_order"):
        TopdownPredictor(TorchBackend(model), channel_order="hsv")


def test_bad_boxes_and_images(model, image):
    pred = TopdownPredictor(TorchBackend(model))
    res = pred.predict(image, [[10, 10, 10, 50], [500, 500, 600, 600], [10, 10, 60, 90]])
    np.testing.assert_array_equal(res.valid, [False, False, True])
    assert np.all(res.scores[:2] == 0) and np.all(np.isfinite(res.keypoints))
    np.testing.assert_allclose(res.keypoints[0], np.tile([10.0, 30.0], (133, 1)))
    empty = pred.predict(image, np.zeros((0, 4)))
    assert empty.keypoints.shape == (0, 133, 2) and empty.scores.shape == (0, 133)
    whole = pred.predict(image, None)
    np.testing.assert_allclose(whole.boxes, [[0, 0, 159, 119]])
    with pytest.raises(ValueError, match="non-finite"):
        pred.predict(image, [[np.nan, 0, 10, 10]])
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        pred.predict(image, [[1, 2, 3]])
    with pytest.raises(ValueError, match="empty image"):
        pred.predict(np.zeros((0, 10, 3), np.uint8), BOXES)
    with pytest.raises(ValueError, match=r"RGB \(H, W, 3\)"):
        pred.predict(np.zeros((10, 10), np.uint8), BOXES)
    with pytest.raises(ValueError, match="box lists"):
        pred.predict_frames([image], [])


def test_heatmap_model_predicts():
    torch.manual_seed(0)
    m = create_model("heatmap-tiny-test").eval()
    res = TopdownPredictor(TorchBackend(m), flip_test=True).predict(
        np.full((64, 48, 3), 100, np.uint8), [[0, 0, 47, 63]]
    )
    assert res.keypoints.shape == (1, 133, 2) and np.all(np.isfinite(res.keypoints))


def test_pipeline_given_boxes_and_whole_image(model, image):
    pipe = WholebodyPipeline(TopdownPredictor(TorchBackend(model)))
    res = pipe(image, BOXES[:2], [0.9, 0.5])
    direct = TopdownPredictor(TorchBackend(model)).predict(image, BOXES[:2])
    np.testing.assert_allclose(res.keypoints, direct.keypoints)
    ks = direct.scores
    expect = np.array([0.9, 0.5]) * np.array([k[k > 0.2].mean() for k in ks])
    np.testing.assert_allclose(res.person_scores, expect, rtol=1e-6)
    whole = pipe(image)
    assert whole.keypoints.shape == (1, 133, 2) and whole.box_scores[0] == 1.0
    dropped = pipe(image, [[5, 5, 5, 50]])  # zero-area box: no person
    assert dropped.keypoints.shape == (0, 133, 2)
    with pytest.raises(ValueError, match="box_scores"):
        pipe(image, BOXES[:2], [0.9])


def test_udp_heatmap_model_uses_udp_crops():
    torch.manual_seed(0)
    m = create_model("heatmap-tiny-test", heatmap_udp=True).eval()
    pred = TopdownPredictor(TorchBackend(m))
    assert pred.udp
    res = pred.predict(np.full((64, 48, 3), 100, np.uint8), [[0, 0, 47, 63]])
    assert np.all(np.isfinite(res.keypoints))
    assert not TopdownPredictor(TorchBackend(m), heatmap_udp=False).udp

"""Parity with rtmlib's numpy/OpenCV pre- and post-processing (the released ONNX pipelines).

Needs the test-all extras ``rtmlib`` (installed with ``--no-deps``) and
``opencv-python-headless``; ``make test-all`` installs them.
"""

import numpy as np
import pytest

from wholebody.codecs import decode_simcc
from wholebody.crop import box_to_center_scale, fix_aspect_ratio, get_warp_matrix, warp_affine
from wholebody.inference.detector import nms
from wholebody.inference.topdown import TopdownPredictor

pytestmark = pytest.mark.slow
rtmlib_pre = pytest.importorskip("rtmlib.tools.pose_estimation.pre_processings")
rtmlib_post = pytest.importorskip("rtmlib.tools.pose_estimation.post_processings")
rtmlib_det = pytest.importorskip("rtmlib.tools.object_detection.post_processings")
cv2 = pytest.importorskip("cv2")

INPUT = (192, 256)
BOXES = np.array([[10.0, 20.0, 110.0, 220.0], [50.5, 60.2, 300.7, 180.9], [0, 0, 319, 239]])


def test_center_scale_aspect_and_matrix_match_rtmlib():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (240, 320, 3)).astype(np.uint8)
    for box in BOXES:
        c_ref, s_ref = rtmlib_pre.bbox_xyxy2cs(box, padding=1.25)
        _, s_fixed_ref = rtmlib_pre.top_down_affine(INPUT, s_ref, c_ref, img)
        c, s = box_to_center_scale(box[None], 1.25)
        np.testing.assert_allclose(c[0], c_ref)
        np.testing.assert_allclose(fix_aspect_ratio(s, 0.75)[0], s_fixed_ref)
        for rot in (0.0, 25.0):
            m_ref = rtmlib_pre.get_warp_matrix(c_ref, s_fixed_ref, rot, output_size=INPUT)
            m = get_warp_matrix(c, fix_aspect_ratio(s, 0.75), INPUT, rot)[0]
            np.testing.assert_allclose(m, m_ref, atol=1e-4)


def test_crops_match_cv2_warp_affine():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (240, 320, 3)).astype(np.uint8)
    for box in BOXES:
        c, s = rtmlib_pre.bbox_xyxy2cs(box, padding=1.25)
        ref, s_fixed = rtmlib_pre.top_down_affine(INPUT, s, c, img)
        m = get_warp_matrix(c[None], s_fixed[None], INPUT)[0]
        ours = warp_affine(img, m, INPUT)
        diff = np.abs(ours - ref.astype(np.float32))
        # OpenCV rounds to uint8 (and interpolates with 5-bit fixed-point weights)
        assert diff.max() <= 1.0 and diff.mean() < 0.3  # observed: max 0.5, mean <= 0.2


def test_decode_and_back_projection_match_rtmlib():
    rng = np.random.default_rng(2)
    sx, sy = rng.normal(size=(3, 133, 384)), rng.normal(size=(3, 133, 512))
    sx[0, :5] -= 10  # non-positive scores -> -1 locations
    locs_ref, vals_ref = rtmlib_post.get_simcc_maximum(sx, sy)
    kp, sc = decode_simcc(sx, sy, 2.0, score_mode="mean")
    np.testing.assert_allclose(kp, locs_ref / 2.0)
    np.testing.assert_allclose(sc, vals_ref, rtol=1e-6)

    class Fixed:  # backend returning the logits above
        input_size, split_ratio, is_simcc = INPUT, 2.0, True

        def __call__(self, batch):
            return sx[: len(batch)].astype(np.float32), sy[: len(batch)].astype(np.float32)

    img = rng.integers(0, 255, (240, 320, 3)).astype(np.uint8)
    res = TopdownPredictor(Fixed()).predict(img, BOXES)
    for i, box in enumerate(BOXES):
        c, s = rtmlib_pre.bbox_xyxy2cs(box, padding=1.25)
        _, s_fixed = rtmlib_pre.top_down_affine(INPUT, s, c, img)
        ref = locs_ref[i] / 2.0 / np.array(INPUT) * s_fixed + c - s_fixed / 2
        ok = vals_ref[i] > 0
        np.testing.assert_allclose(res.keypoints[i][ok], ref[ok], rtol=1e-5, atol=1e-3)


def test_nms_matches_rtmlib():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 200, (60, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(10, 80, (60, 2))], 1)
    scores = rng.uniform(0, 1, 60)
    np.testing.assert_array_equal(nms(boxes, scores, 0.45), rtmlib_det.nms(boxes, scores, 0.45))

"""Metrics: hand-computed values, invariances, no reflections, whole-body alignment."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from lifting.metrics import mpjpe, mpjve, n_mpjpe, p_mpjpe, procrustes_align, wholebody_errors
from wholebody.keypoints import COCO_WHOLEBODY


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_mpjpe_hand_value():
    gt = np.zeros((1, 2, 3))
    pred = np.array([[[3.0, 4.0, 0.0], [0.0, 0.0, 1.0]]])  # distances 5 and 1
    np.testing.assert_allclose(mpjpe(pred, gt), [3.0])


def test_n_mpjpe_hand_value():
    gt = np.array([[[1.0, 0, 0], [0, 2.0, 0]]])
    np.testing.assert_allclose(n_mpjpe(0.5 * gt, gt), [0.0], atol=1e-12)
    # pred = gt + offset on one joint: s = <p,g>/<p,p> = 5/6; hand-computed MPJPE after scaling
    pred = np.array([[[1.0, 0, 0], [0, 2.0, 1.0]]])
    s = 5.0 / 6.0
    expect = 0.5 * (
        np.linalg.norm(s * pred[0, 0] - gt[0, 0]) + np.linalg.norm(s * pred[0, 1] - gt[0, 1])
    )
    np.testing.assert_allclose(n_mpjpe(pred, gt), [expect])


def test_p_mpjpe_invariant_to_similarity(rng):
    gt = rng.normal(size=(5, 17, 3))
    pred = gt + 0.05 * rng.normal(size=gt.shape)
    base = p_mpjpe(pred, gt)
    R = Rotation.random(5, random_state=1).as_matrix()
    moved = 2.7 * np.einsum("bij,bkj->bki", R, pred) + rng.normal(size=(5, 1, 3))
    np.testing.assert_allclose(p_mpjpe(moved, gt), base, rtol=1e-9, atol=1e-12)
    assert np.all(p_mpjpe(pred, gt) <= mpjpe(pred, gt) + 1e-12)
    np.testing.assert_allclose(p_mpjpe(moved, moved), 0.0, atol=1e-9)


def test_p_mpjpe_has_no_reflections(rng):
    gt = rng.normal(size=(1, 17, 3))
    mirrored = gt * np.array([-1.0, 1.0, 1.0])  # a reflection cannot be undone by a rotation
    assert p_mpjpe(mirrored, gt)[0] > 0.1
    aligned = procrustes_align(mirrored, gt)[0]
    # The alignment applied to the mirrored points is a proper similarity: check via Umeyama
    # on the result (det of the fitted linear map must be positive).
    a = aligned - aligned.mean(0)
    m = mirrored[0] - mirrored[0].mean(0)
    lin, *_ = np.linalg.lstsq(m, a, rcond=None)
    assert np.linalg.det(lin) > 0


def test_mpjve_hand_value():
    gt = np.zeros((3, 1, 3))
    pred = np.array([[[0.0, 0, 0]], [[1.0, 0, 0]], [[1.0, 0, 0]]])
    np.testing.assert_allclose(mpjve(pred, gt), [1.0, 0.0])  # moves once, then rests


def test_bad_input():
    with pytest.raises(ValueError, match="equal shapes"):
        mpjpe(np.zeros((2, 17, 3)), np.zeros((2, 16, 3)))
    with pytest.raises(ValueError, match="finite"):
        p_mpjpe(np.full((1, 17, 3), np.nan), np.zeros((1, 17, 3)))
    with pytest.raises(ValueError, match=r"\(\.\.\., J, 3\)"):
        mpjpe(np.zeros((2, 17, 2)), np.zeros((2, 17, 2)))
    with pytest.raises(ValueError, match="T >= 2"):
        mpjve(np.zeros((1, 17, 3)), np.zeros((1, 17, 3)))


def test_wholebody_alignment_by_name(rng):
    kset = COCO_WHOLEBODY
    gt = rng.normal(size=(2, 133, 3))
    pred = gt + np.array([0.3, -0.2, 0.1])  # a global shift is removed by every alignment
    errs = wholebody_errors(pred, gt)
    for v in errs.values():
        np.testing.assert_allclose(v, 0.0, atol=1e-12)
    # Shift only the face by d: pelvis-aligned face error = |d|, nose-aligned face error 0.
    pred = gt.copy()
    d = np.array([0.0, 0.03, 0.04])
    pred[:, kset.part("face")] += d
    pred[:, kset.index("nose")] += d
    errs = wholebody_errors(pred, gt)
    np.testing.assert_allclose(errs["face"], 0.05)
    np.testing.assert_allclose(errs["face_nose"], 0.0, atol=1e-12)
    # Shift the left hand rigidly: wrist-aligned error 0 for it.
    pred = gt.copy()
    pred[:, kset.part("left_hand")] += d
    errs = wholebody_errors(pred, gt)
    np.testing.assert_allclose(errs["hands_wrist"], 0.0, atol=1e-12)
    np.testing.assert_allclose(errs["hands"], 0.05 * 21 / 42)
    n_all = 133
    np.testing.assert_allclose(errs["all"], 0.05 * 21 / n_all)
    with pytest.raises(ValueError, match="J=133"):
        wholebody_errors(np.zeros((1, 17, 3)), np.zeros((1, 17, 3)))


def test_procrustes_matches_scipy_kabsch_plus_scale(rng):
    # Independent route: scipy's proper-rotation Kabsch on centred points, then the
    # least-squares scale s = sum <g0, R p0> / sum |p0|^2.
    for _ in range(5):
        gt = rng.normal(size=(17, 3))
        pred = gt @ Rotation.random(random_state=rng.integers(1 << 30)).as_matrix().T * 0.7
        pred = pred + 0.2 * rng.normal(size=gt.shape)
        p0, g0 = pred - pred.mean(0), gt - gt.mean(0)
        rot, _ = Rotation.align_vectors(g0, p0)
        rp = rot.apply(p0)
        s = np.sum(g0 * rp) / np.sum(p0 * p0)
        expect = s * rp + gt.mean(0)
        np.testing.assert_allclose(procrustes_align(pred[None], gt[None])[0], expect, atol=1e-9)

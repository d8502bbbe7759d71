"""SimCC and heatmap codecs, KL loss: round trips, MMPose semantics, flips, bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from wholebody.codecs import (
    decode_heatmap,
    decode_simcc,
    encode_heatmap,
    encode_simcc,
    flip_simcc,
    simcc_visibility,
)
from wholebody.codecs.heatmap import flip_heatmap
from wholebody.keypoints import COCO_WHOLEBODY
from wholebody.losses import KLDiscretLoss, keypoint_mse_loss, kl_discret_loss
from wholebody.models import get_config

SIZE = (192, 256)


def test_simcc_round_trip_on_bins_is_exact():
    rng = np.random.default_rng(0)
    kpts = rng.integers(0, [SIZE[0] * 2, SIZE[1] * 2], size=(4, 133, 2)) / 2.0
    tx, ty, w = encode_simcc(kpts, np.ones((4, 133)), SIZE, (4.9, 5.66), 2.0)
    assert tx.shape == (4, 133, 384) and ty.shape == (4, 133, 512) and np.all(w == 1)
    dec, scores = decode_simcc(tx, ty, 2.0)
    assert np.abs(dec - kpts).max() < 0.1
    np.testing.assert_allclose(scores, 1.0)


def test_simcc_round_trip_off_grid_within_half_bin():
    rng = np.random.default_rng(1)
    kpts = rng.uniform(0, 1, size=(3, 133, 2)) * (np.array(SIZE) - 1)
    tx, ty, _ = encode_simcc(kpts, np.ones((3, 133)), SIZE, (4.9, 5.66), 2.0)
    dec, _ = decode_simcc(tx, ty, 2.0)
    assert np.abs(dec - kpts).max() <= 0.25 + 1e-9  # rounding to 0.5-pixel bins (MMPose)


def test_simcc_label_values_match_formula():
    kpts = np.array([[[10.3, 20.7]]])
    tx, ty, _ = encode_simcc(kpts, np.ones((1, 1)), SIZE, (4.9, 5.66), 2.0)
    mu = np.around(kpts[0, 0] * 2)
    np.testing.assert_allclose(
        tx[0, 0], np.exp(-((np.arange(384) - mu[0]) ** 2) / (2 * 4.9**2)), 1e-5, 1e-7
    )
    np.testing.assert_allclose(
        ty[0, 0], np.exp(-((np.arange(512) - mu[1]) ** 2) / (2 * 5.66**2)), 1e-5, 1e-7
    )


def test_simcc_weights_invisible_and_outside():
    kpts = np.array(
        [[[10.0, 10.0], [-100.0, 10.0], [10.0, 1000.0], [np.nan, 3.0], [5.0, 5.0], [6.0, 6.0]]]
    )
    vis = np.array([[1, 1, 1, 1, 0, 0.5]])
    tx, ty, w = encode_simcc(kpts, vis, SIZE, (4.9, 5.66))
    np.testing.assert_array_equal(w, [[1, 0, 0, 0, 0, 0.5]])
    assert np.all(tx[0, 1:5] == 0) and np.all(ty[0, 1:5] == 0)
    assert tx[0, 5].max() == 1.0  # visibility 0.5 counts as labelled (MMPose: skip if < 0.5)
    # just outside the crop but within 3 sigma: still supervised (MMPose)
    _, _, w2 = encode_simcc(np.array([[[-3.0, 10.0]]]), np.ones((1, 1)), SIZE, (4.9, 5.66))
    assert w2[0, 0] == 1


def test_simcc_bad_input():
    with pytest.raises(ValueError, match=r"\(N, K, 2\)"):
        encode_simcc(np.zeros((133, 2)), np.ones(133), SIZE, (4.9, 5.66))
    with pytest.raises(ValueError, match="visible"):
        encode_simcc(np.zeros((1, 133, 2)), np.ones((1, 17)), SIZE, (4.9, 5.66))
    with pytest.raises(ValueError, match="sigma"):
        encode_simcc(np.zeros((1, 1, 2)), np.ones((1, 1)), SIZE, (0, 5.0))
    with pytest.raises(ValueError, match="pairs"):
        decode_simcc(np.zeros((1, 133, 384)), np.zeros((1, 17, 512)))


def test_decode_simcc_score_is_min_and_nonpositive_is_minus_one():
    sx = np.zeros((1, 2, 8), np.float32)
    sy = np.zeros((1, 2, 6), np.float32)
    sx[0, 0, 3], sy[0, 0, 5] = 2.0, 0.7
    sx[0, 1] -= 1.0  # all logits negative
    sy[0, 1] -= 2.0
    kpts, scores = decode_simcc(sx, sy, 2.0)
    np.testing.assert_allclose(kpts[0, 0], [1.5, 2.5])
    assert scores[0, 0] == pytest.approx(0.7)
    np.testing.assert_allclose(kpts[0, 1], [-0.5, -0.5])  # -1 bin / ratio, as MMPose
    assert scores[0, 1] == pytest.approx(-2.0)


def test_flip_simcc_is_involution_and_mirrors_locations():
    rng = np.random.default_rng(2)
    sx, sy = rng.normal(size=(2, 133, 384)), rng.normal(size=(2, 133, 512))
    idx = COCO_WHOLEBODY.flip_indices
    fx, fy = flip_simcc(*flip_simcc(sx, sy, idx), idx)
    np.testing.assert_array_equal(fx, sx)
    np.testing.assert_array_equal(fy, sy)
    tx, ty = flip_simcc(torch.from_numpy(sx), torch.from_numpy(sy), idx)
    np.testing.assert_array_equal(tx.numpy(), flip_simcc(sx, sy, idx)[0])
    k_left, k_right = COCO_WHOLEBODY.index("left_wrist"), COCO_WHOLEBODY.index("right_wrist")
    a, _ = decode_simcc(sx, sy)
    b, _ = decode_simcc(*flip_simcc(sx, sy, idx))
    np.testing.assert_allclose(b[:, k_left, 0], (383 - a[:, k_right, 0] * 2) / 2)


def test_heatmap_dark_round_trip():
    rng = np.random.default_rng(3)
    kpts = rng.uniform(20, 170, size=(2, 133, 2)) * np.array([1.0, 1.3])
    hm, w = encode_heatmap(kpts, np.ones((2, 133)), SIZE, (48, 64), sigma=2.0)
    assert hm.shape == (2, 133, 64, 48) and np.all(w == 1)
    dec, scores = decode_heatmap(hm, SIZE, dark=True)
    assert np.abs(dec - kpts).max() < 0.1
    plain, _ = decode_heatmap(hm, SIZE, dark=False)
    assert np.abs(plain - kpts).max() <= 3.0  # integer argmax + quarter shift at stride 4
    assert np.abs(dec - kpts).mean() < np.abs(plain - kpts).mean()


def test_heatmap_flip_and_bad_input():
    hm = np.random.default_rng(4).random((1, 133, 8, 6))
    idx = COCO_WHOLEBODY.flip_indices
    np.testing.assert_array_equal(flip_heatmap(flip_heatmap(hm, idx), idx), hm)
    with pytest.raises(ValueError):
        decode_heatmap(np.zeros((133, 8, 6)), SIZE)
    _, w = encode_heatmap(np.array([[[1000.0, 5.0]]]), np.ones((1, 1)), SIZE, (48, 64))
    assert w[0, 0] == 0


def _reference_kl(px, py, tx, ty, w, beta, label_beta, mask=None, mask_weight=1.0):
    """Direct transcription of the MMPose formula with torch.nn.KLDivLoss."""
    k = px.shape[1]
    total = 0
    for p, t in ((px, tx), (py, ty)):
        log_pt = F.log_softmax(p.reshape(-1, p.shape[-1]) * beta, dim=1)
        lab = F.softmax(t.reshape(-1, t.shape[-1]) * label_beta, dim=1)
        loss = torch.nn.KLDivLoss(reduction="none")(log_pt, lab).mean(dim=1) * w.reshape(-1)
        loss = loss.reshape(-1, k)
        if mask is not None:
            loss[:, mask] = loss[:, mask] * mask_weight
        total = total + loss.sum()
    return total / k


def test_kl_loss_matches_reference_rtmpose_and_rtmw():
    g = torch.Generator().manual_seed(0)
    px, py = torch.randn(3, 133, 384, generator=g), torch.randn(3, 133, 512, generator=g)
    tx, ty = torch.rand(3, 133, 384, generator=g), torch.rand(3, 133, 512, generator=g)
    w = (torch.rand(3, 133, generator=g) > 0.3).float()
    rtmpose = KLDiscretLoss.from_config(get_config("rtmpose-m"))
    ref = _reference_kl(px, py, tx, ty, w, 10.0, 10.0)
    torch.testing.assert_close(rtmpose(px, py, tx, ty, w), ref, rtol=1e-5, atol=1e-6)
    rtmw = KLDiscretLoss.from_config(get_config("rtmw-l"))
    face = COCO_WHOLEBODY.part("face")
    assert face[0] == 23 and face[-1] == 90
    ref = _reference_kl(px, py, tx, ty, w, 1.0, 10.0, face, 0.5)
    torch.testing.assert_close(rtmw(px, py, tx, ty, w), ref, rtol=1e-5, atol=1e-6)


def test_kl_loss_minimum_at_target_and_gradients():
    tx, ty, w = encode_simcc(np.full((1, 133, 2), 50.0), np.ones((1, 133)), SIZE, (4.9, 5.66))
    tx, ty, w = map(torch.from_numpy, (tx, ty, w))
    # logits equal to labels * label_beta / beta reproduce the softened label distribution
    best = kl_discret_loss(tx * 1.0, ty * 1.0, tx, ty, w, beta=10.0, label_beta=10.0)
    assert float(best) < 1e-6
    px = torch.zeros_like(tx, requires_grad=True)
    loss = kl_discret_loss(px, torch.zeros_like(ty), tx, ty, w)
    loss.backward()
    assert loss.item() > 0 and torch.isfinite(px.grad).all()
    with pytest.raises(ValueError, match="weights"):
        kl_discret_loss(tx, ty, tx, ty, torch.ones(1, 17))


def test_heatmap_mse():
    p, t = torch.ones(1, 2, 4, 4), torch.zeros(1, 2, 4, 4)
    assert float(keypoint_mse_loss(p, t, torch.tensor([[1.0, 0.0]]))) == pytest.approx(0.5)


def test_simcc_visibility_is_a_probability():
    tx, ty, _ = encode_simcc(np.full((1, 2, 2), 40.0), np.ones((1, 2)), SIZE, (6.0, 6.93))
    flat_x, flat_y = np.zeros_like(tx), np.zeros_like(ty)
    vis = simcc_visibility(np.concatenate([tx, flat_x]), np.concatenate([ty, flat_y]), (6, 6.93))
    assert vis.shape == (2, 2) and np.all((vis >= 0) & (vis <= 1))
    assert np.all(vis[0] > 0.99) and np.allclose(
        vis[1], 1 / 512
    )  # peaked vs flat (min of 1/384, 1/512)
    _, scores = decode_simcc(tx * 3, ty * 3)
    assert scores.max() > 1  # raw logit scores are not probabilities


def test_udp_heatmap_round_trip_in_image_space():
    """image point -> UDP crop -> UDP heatmap -> DARK-UDP decode -> back-projection."""
    from wholebody.crop import get_udp_warp_matrix, transform_points, warp_from_crop

    rng = np.random.default_rng(5)
    center, scale = np.array([[300.0, 200.0]]), np.array([[150.0, 200.0]])
    pts = center[:, None] + rng.uniform(-0.4, 0.4, (1, 133, 2)) * scale[:, None]
    crop_pts = transform_points(pts, get_udp_warp_matrix(center, scale, SIZE))
    hm, w = encode_heatmap(crop_pts, np.ones((1, 133)), SIZE, (48, 64), 2.0, udp=True)
    assert np.all(w == 1)
    dec, _ = decode_heatmap(hm, SIZE, udp=True)
    back = warp_from_crop(dec, center, scale, SIZE)
    assert np.abs(back - pts).max() < 0.1 * scale[0, 0] / 48  # < 0.1 heatmap pixel

"""Inference: window blending, flip TTA equivariance, online causal mode, bf16, bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from lifting.inference import (
    OnlineLifter,
    blend_weights,
    dot_library_for,
    flip_indices_for,
    flip_tta,
    lift_clips,
    lift_sequence,
    make_predictor,
    sanitize_input,
    window_starts,
)
from lifting.model import create_model


@pytest.fixture(scope="module")
def tiny():
    return create_model("tiny", rngs=11)


def test_window_starts_cover_the_sequence():
    assert window_starts(10, 27, 18) == [0]
    assert window_starts(100, 27, 18) == [0, 18, 36, 54, 72, 73]
    with pytest.raises(ValueError):
        window_starts(100, 27, 30)


def test_blending_is_exact_for_window_independent_predictors():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 17, 3)).astype(np.float32)

    def per_frame(batch):  # depends on each frame only
        return np.tanh(batch) * 2.0

    out = lift_sequence(per_frame, x, window=27, overlap=9, batch_size=3)
    np.testing.assert_allclose(out, per_frame(x), rtol=1e-5, atol=1e-6)


def test_blending_leaves_no_jump_at_window_boundaries():
    t, window, overlap = 300, 27, 9
    ramp = np.linspace(0.0, 3.0, t, dtype=np.float32)  # slope 0.01 per frame
    x = np.repeat(ramp[:, None, None], 17, axis=1).repeat(3, axis=2)

    def with_window_bias(batch):  # a per-window offset, like a clip-level depth/scale error
        return batch + batch.mean(axis=(1, 2, 3), keepdims=True) * 0.5

    blended = lift_sequence(with_window_bias, x, window=window, overlap=overlap)
    step = np.abs(np.diff(blended[:, 0, 0]))
    # hard cuts (each frame from the window that starts last before it) jump at every boundary
    hard = np.empty(t, np.float32)
    for s in window_starts(t, window, window - overlap):
        hard[s : s + window] = with_window_bias(x[None, s : s + window])[0, :, 0, 0]
    hard_step = np.abs(np.diff(hard))
    slope = 0.01 * 1.5  # output slope inside one window
    bias_jump = 0.5 * 0.01 * (window - overlap)  # offset change between consecutive windows
    assert hard_step.max() > bias_jump  # the naive result jumps by the whole offset
    # blended: the offset change is spread over the overlap (cosine ramp: <= pi/2 * jump/overlap)
    assert step.max() < slope + np.pi / 2 * bias_jump / overlap
    assert step.max() < 0.3 * hard_step.max()


def test_flip_tta_is_equivariant(tiny):
    rng = np.random.default_rng(1)
    x = sanitize_input(rng.normal(0, 0.5, (5, 17, 3)).clip(-1, 1))
    x[..., 2] = rng.uniform(0.2, 1.0, (5, 17))
    flip = flip_indices_for(tiny.config)
    predict = flip_tta(make_predictor(tiny), flip)
    sign = np.array([-1.0, 1.0, 1.0], np.float32)
    out = predict(x[None])[0]
    out_mirrored = predict((x[:, flip] * sign)[None])[0]
    np.testing.assert_allclose(out_mirrored, out[:, flip] * sign, atol=1e-5)
    # and it differs from the plain prediction (the random model is not symmetric)
    plain = make_predictor(tiny)(np.concatenate([x[None], x[None]]))[0]
    assert np.abs(plain - out).max() > 1e-4


def test_flip_needs_a_matching_keypoint_set():
    model = create_model("tiny", num_joints=20)
    with pytest.raises(ValueError, match="keypoint set"):
        flip_indices_for(model.config)
    assert len(flip_indices_for(create_model("tiny", num_joints=133).config)) == 133


def test_online_mode_is_causal_and_reports_latency(tiny):
    rng = np.random.default_rng(2)
    x = rng.normal(0, 0.5, (12, 17, 3)).astype(np.float32)
    x[..., 2] = 1.0
    predict = make_predictor(tiny)
    online = OnlineLifter(predict, window=8)
    out = online.run(x)
    assert out.shape == (12, 17, 3) and len(online.latencies) == 12
    assert all(lat > 0 for lat in online.latencies)
    # frame 10 is predicted from frames 3..10 exactly
    np.testing.assert_allclose(out[10], predict(x[None, 3:11])[0, -1], atol=1e-6)
    # frame 0 from a window of repeated first frames
    np.testing.assert_allclose(out[0], predict(np.repeat(x[None, :1], 8, axis=1))[0, -1], atol=1e-6)
    x2 = x.copy()
    x2[7:] += 0.3
    out2 = OnlineLifter(predict, window=8).run(x2)
    np.testing.assert_array_equal(out2[:7], out[:7])
    assert np.abs(out2[7:] - out[7:]).max() > 1e-4


def test_bfloat16_predictor_is_close_to_float32(tiny):
    rng = np.random.default_rng(3)
    x = rng.normal(0, 0.5, (1, 8, 17, 3)).astype(np.float32)
    ref = make_predictor(tiny)(x)
    low = make_predictor(tiny, dtype="bfloat16")(x)
    assert low.dtype == np.float32
    assert np.abs(low - ref).max() < 0.05 * np.abs(ref).max() + 1e-3
    with pytest.raises(ValueError, match="dtype"):
        make_predictor(tiny, dtype="int4")


def test_bad_input_is_sanitised_or_rejected(tiny):
    x = np.ones((4, 17, 3), np.float32)
    x[1, 3, 0] = np.nan
    x[2, :, 2] = 0.0  # a frame with no confident joint
    clean = sanitize_input(x, 17)
    assert np.all(np.isfinite(clean))
    np.testing.assert_array_equal(clean[1, 3], 0.0)
    np.testing.assert_array_equal(clean[2], 0.0)
    out = make_predictor(tiny)(clean[None])
    assert np.all(np.isfinite(out))
    with pytest.raises(ValueError, match="17 joints"):
        sanitize_input(np.zeros((4, 16, 3)), 17)
    with pytest.raises(ValueError, match="T, J, 3"):
        sanitize_input(np.zeros((4, 17, 2)))
    with pytest.raises(ValueError, match="T=0"):
        sanitize_input(np.zeros((0, 17, 3)))
    # shorter than the window: one call at the sequence's own length
    short = lift_sequence(lambda b: b * 2, clean[:3], window=27)
    assert short.shape == (3, 17, 3)


def test_batched_predictor_equals_one_call(tiny):
    rng = np.random.default_rng(4)
    x = rng.normal(0, 0.5, (5, 8, 17, 3)).astype(np.float32)
    whole = make_predictor(tiny)(x)
    batched = make_predictor(tiny, batch_size=2)(x)  # chunks 2, 2, 1 (+1 zero pad)
    assert batched.shape == (5, 8, 17, 3)
    np.testing.assert_allclose(batched, whole, atol=1e-6)
    assert make_predictor(tiny, batch_size=4)(x[:0]).shape == (0, 8, 17, 3)
    with pytest.raises(ValueError, match="batch_size"):
        make_predictor(tiny, batch_size=0)


def test_dot_libraries_agree(tiny):
    from lifting.config import get_config

    assert dot_library_for(get_config("motionbert")) == "eigen"
    assert dot_library_for(get_config("small")) == "xla-default"
    assert dot_library_for(get_config("small"), "eigen") == "eigen"
    x = np.random.default_rng(5).normal(0, 0.5, (2, 8, 17, 3)).astype(np.float32)
    eigen = make_predictor(tiny, dot_library="eigen")(x)
    np.testing.assert_allclose(eigen, make_predictor(tiny, dot_library="xla-default")(x), atol=1e-5)
    with pytest.raises(ValueError, match="dot_library"):
        make_predictor(tiny, dot_library="mkl")


def test_lift_clips_averages_overlapping_clips():
    x = np.arange(10, dtype=np.float32)[:, None, None] * np.ones((1, 17, 3), np.float32)
    calls = []

    def offset_per_clip(batch):  # clip k adds k: overlapping frames get the mean offset
        calls.append(len(batch))
        return batch + np.arange(len(batch), dtype=np.float32)[:, None, None, None]

    clips = np.array([[0, 1, 2, 3], [2, 3, 4, 5], [6, 7, 8, 9], [6, 6, 7, 7]])
    out = lift_clips(offset_per_clip, x, clips)
    assert calls == [4]
    np.testing.assert_allclose(out[:2, 0, 0], [0.0, 1.0])
    np.testing.assert_allclose(out[2:4, 0, 0], [2.5, 3.5])  # clips 0 and 1
    np.testing.assert_allclose(out[6, 0, 0], 6 + (2 + 3 + 3) / 3)  # clip 2 once, clip 3 twice
    with pytest.raises(ValueError, match="indices"):
        lift_clips(offset_per_clip, x, clips + 1)
    with pytest.raises(ValueError, match="integer"):
        lift_clips(offset_per_clip, x, clips.astype(float))


def test_blend_weights_taper_to_near_zero():
    w = blend_weights(27, 9)
    assert w[0] <= 0.05 and w[-1] <= 0.05 and w[13] == 1.0 and np.all(w > 0)


def test_lifting_package_never_imports_torch():
    code = (
        "import sys, lifting.model, lifting.inference, lifting.checkpoint, "
        "lifting.convert_motionbert, lifting.torch_pickle; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

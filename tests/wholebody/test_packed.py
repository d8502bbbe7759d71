"""The packed oneDNN fast path (``TorchBackend(packed=True)``) equals the eager model."""

import numpy as np
import pytest
import torch
from torch import nn

from tests.wholebody.conftest import assert_backend_as_close_as_eager, perturbed_model
from wholebody.inference import TopdownPredictor, TorchBackend
from wholebody.inference.packed import PackedConv2d, pack_convolutions, packed_conv_available
from wholebody.models.layers import ConvModule

pytestmark = pytest.mark.skipif(
    not packed_conv_available(), reason="this PyTorch build has no oneDNN (mkldnn)"
)


@pytest.mark.parametrize("name", ["rtmpose-tiny-test", "rtmw-tiny-test", "heatmap-tiny-test"])
def test_packed_backend_equals_eager_model(name):
    """Packed outputs are as close to a float64 reference as the eager float32 model's (within
    1e-5 of the logit scale), at varying batch sizes, and the backbone features match the
    eager ones to 1e-5. (These randomly initialised, perturbed nets amplify float32 rounding to
    ~1e-4 of the logit scale in the RTMW head, whichever kernels run: see test_onnx.)"""
    model = perturbed_model(name, scale=0.02).eval()
    backend = TorchBackend(model)  # CPU default: packed
    assert backend.packed
    assert not any(isinstance(m, ConvModule) for m in backend.model.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())  # caller's model intact
    assert_backend_as_close_as_eager(backend, model)
    w, h = model.config.input_size
    rng = np.random.default_rng(0)
    if name != "rtmw-tiny-test":
        x = torch.from_numpy(rng.normal(size=(3, 3, h, w)).astype(np.float32))
        with torch.inference_mode():
            (ref,), (got,) = model.backbone(x), backend.model.backbone(x)
        assert (got - ref).abs().max() <= 1e-5 * ref.abs().max()


def test_packed_predictor_matches_unpacked():
    model = perturbed_model("rtmpose-tiny-test", scale=0.02)
    img = np.random.default_rng(1).integers(0, 255, (120, 100, 3)).astype(np.uint8)
    boxes = [[5, 5, 60, 90], [20, 10, 95, 115], [0, 0, 40, 40]]
    fast = TopdownPredictor(TorchBackend(model, packed=True), flip_test=True, batch_size=2)
    slow = TopdownPredictor(TorchBackend(model, packed=False), flip_test=True, batch_size=2)
    a, b = fast.predict(img, boxes), slow.predict(img, boxes)
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-5, atol=1e-5)
    assert (np.abs(a.keypoints - b.keypoints).max(-1) < 1e-3).mean() > 0.98  # argmax ties
    empty = fast.predict(img, np.zeros((0, 4)))
    assert empty.keypoints.shape == (0, 133, 2) and empty.scores.shape == (0, 133)


@pytest.mark.parametrize(
    "kwargs, act",
    [
        (dict(kernel_size=3, stride=2, padding=1), nn.SiLU()),
        (dict(kernel_size=5, padding=2, groups=8), nn.ReLU()),
        (dict(kernel_size=1), None),
        (dict(kernel_size=3, padding=2, dilation=2, bias=False), nn.SiLU()),
    ],
)
def test_packed_conv_equals_conv_and_activation(kwargs, act):
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 16, **kwargs).eval()
    packed = PackedConv2d(conv, act)
    ref_act = act if act is not None else nn.Identity()
    for shape in ((1, 8, 13, 9), (4, 8, 13, 9), (2, 8, 20, 16)):  # one pack per (C, H, W)
        x = torch.randn(shape).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            got, ref = packed(x), ref_act(conv(x))
        assert got.shape == ref.shape
        torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)
    assert len(packed._packed) == 2  # one packed weight per input (C, H, W)
    # training / autograd and float64 fall back to the plain conv (gradients flow)
    x = torch.randn(2, 8, 13, 9, requires_grad=True)
    packed(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    x64 = torch.randn(1, 8, 13, 9, dtype=torch.float64)
    conv.double()
    with torch.no_grad():
        torch.testing.assert_close(packed(x64), ref_act(conv(x64)))


def test_chunked_batches_equal_one_forward():
    model = perturbed_model("rtmw-tiny-test", scale=0.02)
    x = np.random.default_rng(2).normal(size=(7, 3, 128, 96)).astype(np.float32)
    whole = TorchBackend(model, chunk=0, graph=False)(x)
    for k in (1, 3, 8):  # same kernels per crop (graph=False): chunking alone changes nothing
        backend = TorchBackend(model, chunk=k, graph=False)
        assert backend.chunk == k
        for a, b in zip(backend(x), whole, strict=True):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * np.abs(b).max())
    assert TorchBackend(model).chunk == 8  # CPU default
    with pytest.raises(ValueError, match="chunk"):
        TorchBackend(model, chunk=-1)


def test_packed_bad_options():
    model = perturbed_model("rtmpose-tiny-test")
    with pytest.raises(ValueError, match="fuse=True"):
        TorchBackend(model, fuse=False, packed=True)
    assert not TorchBackend(model, fuse=False).packed  # auto: off without folding
    with pytest.raises(ValueError, match="act: expected"):
        PackedConv2d(nn.Conv2d(3, 4, 3), nn.GELU())
    with pytest.raises(ValueError, match="padding"):
        PackedConv2d(nn.Conv2d(3, 4, 3, padding="same"))
    # an unfolded ConvModule keeps its BatchNorm and gets only its conv packed
    m = pack_convolutions(nn.Sequential(ConvModule(3, 4, 3)).eval())
    assert isinstance(m[0].conv, PackedConv2d) and isinstance(m[0].bn, nn.BatchNorm2d)

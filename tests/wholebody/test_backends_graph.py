"""The oneDNN Graph path (``TorchBackend(graph=True)``) equals the eager model; fallbacks."""

import logging

import numpy as np
import pytest
import torch
from torch import nn

from tests.wholebody.conftest import assert_backend_as_close_as_eager, perturbed_model
from wholebody.inference import TorchBackend
from wholebody.inference.onednn_graph import GraphCompiled, onednn_graph_available
from wholebody.inference.packed import PackedConv2d, packed_conv_available

pytestmark = pytest.mark.skipif(
    not (packed_conv_available() and onednn_graph_available()),
    reason="this PyTorch build has no oneDNN / TorchScript oneDNN Graph fuser",
)


@pytest.mark.parametrize("name", ["rtmpose-tiny-test", "rtmw-tiny-test", "heatmap-tiny-test"])
def test_graph_backend_equals_eager_model(name):
    """Compiled outputs at batch 1/3/8 (and an empty batch) are as close to a float64
    reference as the eager float32 model's (within 1e-5 of the logit scale); the backbone
    features equal the eager ones to 1e-5."""
    model = perturbed_model(name, scale=0.02).eval()
    backend = TorchBackend(model, graph_max_batch=8, chunk=0)
    assert backend.packed and backend.graph  # CPU default: packed + graph
    assert_backend_as_close_as_eager(backend, model)
    w, h = model.config.input_size
    rng = np.random.default_rng(0)
    compiled = backend.features._compiled
    assert sorted(k[0][0] for k in compiled) == [1, 3, 8]  # one build per shape, reused
    assert all(fn is not None for fn in compiled.values())
    x = torch.from_numpy(rng.normal(size=(1, 3, h, w)).astype(np.float32))
    with torch.inference_mode():
        ref = model.backbone(x)[-1]
        ref64 = model.double().backbone(x.double())[-1]
        model.float()
        got = backend.model.backbone(x)[-1]  # the packed module (batch 1 is compiled below)
        got_graph = backend.features(x.contiguous(memory_format=torch.channels_last))[0]
    if name != "rtmw-tiny-test":  # (the RTMW features pass through the neck first)
        err = (ref - ref64).abs().max()
        assert (got_graph - ref64).abs().max() <= 2 * err + 1e-5 * ref64.abs().max()
        assert (got - ref64).abs().max() <= 2 * err + 1e-5 * ref64.abs().max()


def test_graph_only_for_small_batches_and_inference():
    model = perturbed_model("rtmpose-tiny-test", scale=0.02).eval()
    backend = TorchBackend(model)  # graph_max_batch=1 default
    assert backend.features.max_batch == 1
    w, h = model.config.input_size
    x = np.random.default_rng(1).normal(size=(3, 3, h, w)).astype(np.float32)
    whole = backend(x)  # batch 3 > 1: packed path, nothing compiled
    assert backend.features._compiled == {}
    ones = [backend(x[i : i + 1]) for i in range(3)]
    assert len(backend.features._compiled) == 1  # batch 1 compiled once
    for j, o in enumerate(whole):
        one = np.concatenate([p[j] for p in ones])
        np.testing.assert_allclose(one, o, rtol=0, atol=1e-5 * np.abs(o).max())
    # autograd and float64 inputs run the module (gradients flow)
    xt = torch.randn(1, 3, h, w, requires_grad=True)
    feats = backend.features(xt)
    feats[-1].sum().backward()
    assert xt.grad is not None and torch.isfinite(xt.grad).all()


def test_graph_build_failure_falls_back(monkeypatch, caplog):
    model = perturbed_model("rtmpose-tiny-test", scale=0.02).eval()
    backend = TorchBackend(model)
    w, h = model.config.input_size
    x = np.random.default_rng(2).normal(size=(1, 3, h, w)).astype(np.float32)

    def broken_trace(*args, **kwargs):
        raise RuntimeError("no TorchScript here")

    monkeypatch.setattr(torch.jit, "trace", broken_trace)
    with caplog.at_level(logging.WARNING, logger="wholebody.inference.onednn_graph"):
        got = backend(x)
    assert "oneDNN Graph path disabled" in caplog.text and "no TorchScript here" in caplog.text
    assert backend.features._failed
    monkeypatch.undo()
    ref = TorchBackend(model, graph=False)(x)
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_array_equal(g, r)  # the packed path ran
    assert not torch._C._jit_llga_enabled()  # the global fuser switch was restored


def test_traced_packed_conv_is_plain_conv():
    """Traces (oneDNN Graph, ONNX export) see conv2d, never the private mkldnn operators."""
    conv = nn.Conv2d(4, 8, 3, padding=1).eval()
    packed = PackedConv2d(conv, nn.SiLU())
    x = torch.randn(1, 4, 9, 7)
    with torch.no_grad():
        traced = torch.jit.trace(packed, x, check_trace=False)
        torch.testing.assert_close(traced(x), nn.functional.silu(conv(x)))
    graph = str(traced.inlined_graph)
    assert "aten::_convolution" in graph and "mkldnn" not in graph


def test_graph_bad_options():
    model = perturbed_model("rtmpose-tiny-test")
    with pytest.raises(ValueError, match="packed=True"):
        TorchBackend(model, packed=False, graph=True)
    assert not TorchBackend(model, packed=False).graph  # auto: off without packing
    with pytest.raises(ValueError, match="graph_max_batch"):
        TorchBackend(model, graph_max_batch=0)
    with pytest.raises(ValueError, match="max_batch"):
        GraphCompiled(nn.Identity(), max_batch=-1)
    backend = TorchBackend(model)
    with pytest.raises(ValueError, match="expected"):
        backend(np.zeros((1, 3, 10, 10), np.float32))

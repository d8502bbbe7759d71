"""Models: every preset builds with MMPose key layout, parameter counts match the reference
estimates, forward/backward is finite and every parameter gets a gradient."""

import json

import numpy as np
import pytest
import torch

from wholebody.models import (
    PRESETS,
    ModelConfig,
    count_macs,
    count_parameters,
    create_model,
    get_config,
)

TINY = ["rtmpose-tiny-test", "rtmw-tiny-test", "heatmap-tiny-test"]
LIGHT = TINY + ["rtmpose-t", "rtmpose-s"]
HEAVY = [n for n in PRESETS if n not in LIGHT]


def _forward_backward(name: str, input_size=None):
    torch.manual_seed(0)
    overrides = {} if input_size is None else {"input_size": input_size}
    model = create_model(name, **overrides).train()
    w, h = model.config.input_size
    out = model(torch.randn(1, 3, h, w))
    outs = out if isinstance(out, tuple) else (out,)
    if model.is_simcc:
        wx, wy = model.config.simcc_size
        assert outs[0].shape == (1, 133, wx) and outs[1].shape == (1, 133, wy)
    else:
        hw, hh = model.config.heatmap_size
        assert outs[0].shape == (1, 133, hh, hw)
    for o in outs:
        assert torch.isfinite(o).all()
    sum((o * torch.randn_like(o)).sum() for o in outs).backward()
    for key, p in model.named_parameters():
        assert p.grad is not None, key
        assert torch.isfinite(p.grad).all(), key
        assert p.grad.abs().sum() > 0, key


@pytest.mark.parametrize("name", TINY)
def test_forward_backward_tiny(name):
    _forward_backward(name)


@pytest.mark.parametrize("name", ["rtmpose-t", "rtmpose-s"])
def test_forward_backward_small_presets_tiny_input(name):
    _forward_backward(name, input_size=(64, 64))


@pytest.mark.slow
@pytest.mark.parametrize("name", HEAVY)
def test_forward_backward_heavy_tiny_input(name):
    _forward_backward(name, input_size=(64, 64))


@pytest.mark.slow
@pytest.mark.parametrize("name", HEAVY)
def test_forward_native_size(name):
    model = create_model(name).eval()
    w, h = model.config.input_size
    with torch.no_grad():
        out = model(torch.randn(1, 3, h, w))
    assert all(torch.isfinite(o).all() for o in (out if isinstance(out, tuple) else (out,)))


@pytest.mark.parametrize("name", [n for n, c in PRESETS.items() if c.param_estimate])
def test_parameter_counts_match_reference(name):
    with torch.device("meta"):
        model = create_model(name)
    n = count_parameters(model)
    est = PRESETS[name].param_estimate
    print(f"{name}: {n / 1e6:.2f}M parameters (reference estimate {est / 1e6:.1f}M)")
    assert abs(n - est) / est < 0.01


def test_mmpose_key_layout_rtmw_l():
    with torch.device("meta"):
        sd = create_model("rtmw-l-384").state_dict()
    # a sample of keys and shapes as in the released RTMW-l checkpoint layout
    expected = {
        "backbone.stem.0.conv.weight": (32, 3, 3, 3),
        "backbone.stem.2.bn.running_var": (64,),
        "backbone.stage1.1.blocks.0.conv2.depthwise_conv.conv.weight": (64, 1, 5, 5),
        "backbone.stage1.1.attention.fc.bias": (128,),
        "backbone.stage4.1.conv2.conv.weight": (1024, 2048, 1, 1),
        "backbone.stage4.2.main_conv.conv.weight": (512, 1024, 1, 1),
        "neck.reduce_layers.0.conv.weight": (512, 1024, 1, 1),
        "neck.top_down_blocks.1.final_conv.conv.weight": (256, 256, 1, 1),
        "neck.bottom_up_blocks.1.main_conv.conv.weight": (512, 1024, 1, 1),
        "head.final_layer.conv.weight": (133, 1024, 7, 7),
        "head.final_layer2.conv.weight": (133, 768, 7, 7),
        "head.conv_dec.conv.weight": (256, 256, 7, 7),
        "head.mlp.0.g": (1,),
        "head.mlp.1.weight": (128, 108),
        "head.mlp2.1.weight": (128, 432),
        "head.gau.uv.weight": (1152, 256),
        "head.gau.o.weight": (256, 512),
        "head.gau.gamma": (2, 128),
        "head.gau.res_scale.scale": (256,),
        "head.gau.ln.g": (1,),
        "head.cls_x.weight": (576, 256),
        "head.cls_y.weight": (768, 256),
    }
    for key, shape in expected.items():
        assert tuple(sd[key].shape) == shape, key
    # CSP layers of the neck have no channel attention (CSPLayer default)
    assert not any(k.startswith("neck.") and ".attention." in k for k in sd)


def test_rtmpose_head_layout():
    with torch.device("meta"):
        sd = create_model("rtmpose-m").state_dict()
    assert tuple(sd["head.final_layer.weight"].shape) == (133, 768, 7, 7)
    assert tuple(sd["head.final_layer.bias"].shape) == (133,)
    assert tuple(sd["head.mlp.1.weight"].shape) == (256, 48)
    assert not any(k.startswith("neck.") for k in sd)


def test_config_overrides_and_errors():
    cfg = get_config("rtmpose-m", input_size=(288, 384))
    assert cfg.sigma == (6.0, 6.93) and cfg.simcc_size == (576, 768)
    assert get_config("dwpose-l-384") == PRESETS["rtmpose-l-384"]
    with pytest.raises(ValueError, match="unknown model"):
        create_model("rtmpose-q")
    with pytest.raises(ValueError, match="unknown config overrides"):
        create_model("rtmpose-t", depth=3)
    with pytest.raises(ValueError, match="multiples of 32"):
        create_model("rtmpose-tiny-test", input_size=(100, 128))
    model = create_model("rtmpose-tiny-test")
    with pytest.raises(ValueError, match="expected H, W"):
        model(torch.zeros(1, 3, 64, 64))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        model(torch.zeros(3, 128, 96))


def test_config_json_round_trip():
    cfg = PRESETS["rtmw-l-384"]
    again = ModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg
    assert np.allclose(again.sigma, cfg.sigma)


GFLOPS_DEFAULT = ["rtmpose-m", "rtmw-l"]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=() if n in GFLOPS_DEFAULT else pytest.mark.slow)
        for n, c in PRESETS.items()
        if c.published_gflops
    ],
)
def test_macs_match_published_gflops(name):
    """Conv + matmul MACs equal the GFLOPs of the MMPose/DWPose tables (an architecture check)."""
    macs = count_macs(name) / 1e9
    ref = PRESETS[name].published_gflops
    print(f"{name}: {macs:.3f} GMACs (published {ref})")
    assert abs(macs - ref) / ref < (0.1 if ref < 1 else 0.01)


def test_spp_cascaded_pooling_equals_parallel_pools():
    from wholebody.models.layers import SPPBottleneck

    torch.manual_seed(0)
    spp = SPPBottleneck(16, 16).eval()
    assert spp.cascade
    x = torch.randn(2, 16, 7, 5)
    with torch.no_grad():
        y = spp.conv1(x)
        ref = spp.conv2(torch.cat([y] + [pool(y) for pool in spp.poolings], dim=1))
        torch.testing.assert_close(spp(x), ref, rtol=0, atol=0)

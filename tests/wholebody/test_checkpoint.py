"""Checkpoints: safetensors round trip, MMPose .pth conversion, inference of the preset, errors."""

import json

import numpy as np
import pytest
import torch

from wholebody.checkpoint import (
    convert_mmpose_state_dict,
    infer_config,
    load_model,
    read_mmpose_checkpoint,
    save_model,
)
from wholebody.models import create_model


def _randomised(name: str):
    torch.manual_seed(0)
    model = create_model(name).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


def _outputs(model, seed=0):
    w, h = model.config.input_size
    x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return model(x)


def test_safetensors_round_trip(tmp_path):
    model = _randomised("rtmw-tiny-test")
    save_model(model, tmp_path / "w")
    assert json.loads((tmp_path / "w" / "config.json").read_text())["name"] == "rtmw-tiny-test"
    again = load_model(tmp_path / "w")
    for a, b in zip(_outputs(model), _outputs(again), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def _mmpose_pth(model, path, prefix=""):
    """A file laid out as an mmengine checkpoint: meta + state_dict, extra preprocessor keys."""
    state = {prefix + k: v.clone() for k, v in model.state_dict().items()}
    state[prefix + "data_preprocessor.mean"] = torch.tensor([123.675, 116.28, 103.53])
    torch.save({"meta": {"epoch": 270}, "state_dict": state}, path)


@pytest.mark.parametrize("name", ["rtmpose-tiny-test", "rtmw-tiny-test"])
def test_mmpose_pth_conversion_round_trip(tmp_path, name):
    model = _randomised(name)
    _mmpose_pth(model, tmp_path / "ckpt.pth", prefix="module.")
    loaded = load_model(tmp_path / "ckpt.pth")  # preset inferred from shapes
    assert loaded.config.name == name
    for a, b in zip(_outputs(model), _outputs(loaded), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_dwpose_student_prefix_is_used(tmp_path):
    model = _randomised("rtmpose-tiny-test")
    state = {"student." + k: v for k, v in model.state_dict().items()}
    state.update({"teacher." + k: torch.zeros(1) for k in list(model.state_dict())[:5]})
    out = convert_mmpose_state_dict(state, create_model("rtmpose-tiny-test"))
    assert set(out) == set(model.state_dict())


def test_infer_config_for_released_layout():
    with torch.device("meta"):
        for name in ("rtmpose-l-384", "rtmpose-m", "rtmw-x-384", "rtmpose-t"):
            assert infer_config(create_model(name).state_dict()).name == name
    with pytest.raises(ValueError, match="cannot infer"):
        infer_config({"foo.weight": torch.zeros(1)})


def test_mismatched_and_missing_keys_are_reported(tmp_path):
    model = create_model("rtmpose-tiny-test")
    state = dict(model.state_dict())
    state["head.cls_x.weight"] = torch.zeros(10, 64)
    with pytest.raises(ValueError, match=r"shape mismatches.*head.cls_x.weight"):
        convert_mmpose_state_dict(state, model)
    state = dict(model.state_dict())
    del state["head.gau.gamma"]
    state["head.extra.weight"] = torch.zeros(3)
    with pytest.raises(ValueError, match=r"1 missing keys \['head.gau.gamma'\].*head.extra.weight"):
        convert_mmpose_state_dict(state, model)
    out = convert_mmpose_state_dict(state, model, strict=False)
    assert "head.gau.gamma" in out and "head.extra.weight" not in out
    # a whole-body checkpoint of another model
    other = create_model("rtmw-tiny-test").state_dict()
    with pytest.raises(ValueError):
        convert_mmpose_state_dict(other, model)


def test_truncated_and_missing_files(tmp_path):
    model = create_model("rtmpose-tiny-test")
    _mmpose_pth(model, tmp_path / "full.pth")
    data = (tmp_path / "full.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.pth"):
        read_mmpose_checkpoint(tmp_path / "cut.pth")
    with pytest.raises(ValueError, match="weights not found"):
        load_model(tmp_path / "nothing.pth")
    save_model(model, tmp_path / "w")
    (tmp_path / "w" / "model.safetensors").write_bytes(b"\x00\x01garbage")
    with pytest.raises(ValueError, match="safetensors"):
        load_model(tmp_path / "w")
    (tmp_path / "w" / "config.json").unlink()
    with pytest.raises(ValueError, match="missing config.json"):
        load_model(tmp_path / "w")


def test_loaded_model_is_eval_and_deterministic(tmp_path):
    model = _randomised("rtmpose-tiny-test")
    save_model(model, tmp_path / "w")
    loaded = load_model(tmp_path / "w")
    assert not loaded.training
    a = _outputs(loaded)[0].numpy()
    assert np.isfinite(a).all()


def test_heatmap_checkpoint_needs_and_takes_a_preset(tmp_path):
    model = _randomised("heatmap-tiny-test")
    _mmpose_pth(model, tmp_path / "hm.pth")
    with pytest.raises(ValueError, match="pass a preset"):
        load_model(tmp_path / "hm.pth")
    loaded = load_model(tmp_path / "hm.pth", "heatmap-tiny-test")
    torch.testing.assert_close(_outputs(loaded), _outputs(model), rtol=0, atol=0)

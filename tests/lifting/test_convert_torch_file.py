"""Reading real ``torch.save`` archives without torch (torch only writes the fixtures here)."""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest

from lifting.torch_pickle import read_torch_checkpoint


def test_reads_torch_saved_checkpoint_exactly(tmp_path):
    torch = pytest.importorskip("torch")
    gen = torch.Generator().manual_seed(0)
    base = torch.randn(6, 4, generator=gen)
    state = {
        "module.a.weight": base,
        "module.a.t": base.t(),  # non-contiguous view sharing the storage
        "module.a.slice": base[2:, 1:3],  # offset + strides
        "module.half": torch.randn(3, generator=gen).half(),
        "module.bf16": torch.randn(5, generator=gen).bfloat16(),
        "module.long": torch.arange(7),
        "module.flag": torch.tensor([True, False]),
        "module.scalar": torch.tensor(2.5),
        "module.param": torch.nn.Parameter(torch.ones(2, 2)),
    }
    path = tmp_path / "best_epoch.bin"
    torch.save({"epoch": 7, "lr": 1e-4, "model_pos": state, "min_loss": 0.5}, path)
    loaded = read_torch_checkpoint(path)
    assert loaded["epoch"] == 7 and loaded["min_loss"] == 0.5
    for key, tensor in state.items():
        expected = (
            tensor.detach().float().numpy() if key == "module.bf16" else tensor.detach().numpy()
        )
        got = loaded["model_pos"][key]
        assert got.shape == expected.shape, key
        np.testing.assert_array_equal(got, expected, err_msg=key)
    assert loaded["model_pos"]["module.half"].dtype == np.float16
    assert loaded["model_pos"]["module.long"].dtype == np.int64


def _zip_with_pickle(path, payload: bytes) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", payload)


def test_rejects_disallowed_globals_and_malformed_files(tmp_path):
    evil = tmp_path / "evil.pth"
    _zip_with_pickle(evil, pickle.dumps(io.StringIO))  # any non-tensor global
    with pytest.raises(ValueError, match="does not\\s+allow|weights-only"):
        read_torch_checkpoint(evil)
    truncated = tmp_path / "trunc.pth"
    _zip_with_pickle(truncated, pickle.dumps({"a": 1})[:-3])
    with pytest.raises(ValueError, match="malformed"):
        read_torch_checkpoint(truncated)
    legacy = tmp_path / "legacy.pth"
    legacy.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="not a torch zip checkpoint"):
        read_torch_checkpoint(legacy)
    with pytest.raises(ValueError, match="not found"):
        read_torch_checkpoint(tmp_path / "missing.bin")
    empty = tmp_path / "empty.pth"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("x.txt", "hi")
    with pytest.raises(ValueError, match="data.pkl"):
        read_torch_checkpoint(empty)


def test_torch_saved_motionbert_file_round_trips_through_the_converter(tmp_path):
    torch = pytest.importorskip("torch")
    from lifting.checkpoint import state_dict
    from lifting.convert_motionbert import _mapping, load_motionbert
    from lifting.inference import make_predictor
    from lifting.model import create_model

    model = create_model("tiny", num_heads=8, rngs=5)  # MotionBERT files imply 8 heads
    ours = state_dict(model)
    theirs = {}
    for key, (name, shape, transpose) in _mapping(model.config).items():
        value = ours[key].T if transpose else ours[key].reshape(shape)
        theirs[f"module.{name}"] = torch.from_numpy(np.array(value))
    path = tmp_path / "best_epoch.bin"
    torch.save({"epoch": 1, "model_pos": theirs}, path)
    loaded = load_motionbert(path)
    assert loaded.config.meta["output_unit"] == "normalized"
    x = np.random.default_rng(0).normal(size=(1, 5, 17, 3)).astype(np.float32)
    np.testing.assert_array_equal(make_predictor(loaded)(x), make_predictor(model)(x))

"""Training checkpoints without pickle: safetensors for tensors, JSON for the rest.

A checkpoint directory holds ``model.safetensors`` + ``config.json`` (loadable as a model
directory), ``ema.safetensors`` (optional), ``optimizer.safetensors`` + ``trainer_state.json``.
Directories are replaced atomically: write ``NAME.tmp``, move the old one aside, rename.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn


def _contiguous(state: dict) -> dict:
    return {k: v.detach().cpu().contiguous().clone() for k, v in state.items()}


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    """Split an optimizer state dict into tensors (safetensors) and JSON metadata."""
    sd = optimizer.state_dict()
    tensors, meta = {}, {"param_groups": sd["param_groups"], "state": {}}
    for idx, st in sd["state"].items():
        meta["state"][str(idx)] = {}
        for name, val in st.items():
            if torch.is_tensor(val):
                tensors[f"{idx}.{name}"] = (
                    val.detach().cpu().reshape(val.shape or (1,)).contiguous()
                )
                meta["state"][str(idx)][name] = list(val.shape)
            else:
                meta["state"][str(idx)][name] = {"value": val}
    return tensors, meta


def load_optimizer(optimizer: torch.optim.Optimizer, tensors: dict, meta: dict) -> None:
    state = {}
    for idx, entries in meta["state"].items():
        st = {}
        for name, spec in entries.items():
            if isinstance(spec, dict):
                st[name] = spec["value"]
            else:
                st[name] = tensors[f"{idx}.{name}"].reshape(spec)
        state[int(idx)] = st
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def save_checkpoint(
    directory: str | Path,
    model: nn.Module,
    model_config: dict,
    optimizer: torch.optim.Optimizer | None = None,
    ema: nn.Module | None = None,
    trainer_state: dict | None = None,
) -> Path:
    """Write a checkpoint directory atomically; returns its path."""
    final = Path(directory)
    tmp = final.with_name(final.name + ".tmp")
    old = final.with_name(final.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(_contiguous(model.state_dict()), tmp / "model.safetensors")
    (tmp / "config.json").write_text(json.dumps(model_config, indent=1))
    if ema is not None:
        save_file(_contiguous(ema.state_dict()), tmp / "ema.safetensors")
    state = dict(trainer_state or {})
    if optimizer is not None:
        tensors, meta = optimizer_tensors(optimizer)
        save_file(tensors, tmp / "optimizer.safetensors")
        state["optimizer"] = meta
    state["torch_rng"] = torch.get_rng_state().tolist()
    (tmp / "trainer_state.json").write_text(json.dumps(state))
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def find_checkpoint(directory: str | Path) -> Path | None:
    """The checkpoint directory to resume from (falls back to ``.old`` after a crash)."""
    final = Path(directory)
    for cand in (final, final.with_name(final.name + ".old")):
        if (cand / "trainer_state.json").is_file():
            return cand
    return None


def load_checkpoint(
    directory: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    ema: nn.Module | None = None,
) -> dict:
    """Restore weights/optimizer/EMA/torch RNG in place; returns the trainer state dict."""
    d = Path(directory)
    for name in ("model.safetensors", "trainer_state.json"):
        if not (d / name).is_file():
            raise ValueError(f"checkpoint {d} is incomplete: missing {name}")
    model.load_state_dict(load_file(d / "model.safetensors"))
    state = json.loads((d / "trainer_state.json").read_text())
    if ema is not None and (d / "ema.safetensors").is_file():
        ema.load_state_dict(load_file(d / "ema.safetensors"))
    if optimizer is not None and "optimizer" in state:
        load_optimizer(optimizer, load_file(d / "optimizer.safetensors"), state["optimizer"])
    if "torch_rng" in state:
        torch.set_rng_state(torch.tensor(state["torch_rng"], dtype=torch.uint8))
    return state

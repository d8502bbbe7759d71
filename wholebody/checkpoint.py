"""Weights I/O: safetensors + config.json directories, and MMPose .pth conversion.

A weights directory holds ``config.json`` (a ``ModelConfig``) and ``model.safetensors`` (the
state dict in MMPose naming: ``backbone.*``, ``neck.*``, ``head.*``). Released MMPose checkpoints
(RTMPose / DWPose / RTMW ``.pth``) are converted key by key with every shape asserted.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from wholebody.models import ModelConfig, PoseModel, get_config

logger = logging.getLogger(__name__)

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
# prefixes stripped from foreign keys (DDP, DWPose distillation student, wrappers)
KNOWN_PREFIXES = ("module.", "student.", "model.")
# keys of MMPose checkpoints that are not model weights
IGNORED_PREFIXES = ("data_preprocessor.", "teacher.", "head.loss_module.")


def save_model(model: PoseModel, directory: str | os.PathLike) -> Path:
    """Write ``config.json`` + ``model.safetensors`` atomically into ``directory``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with tempfile.NamedTemporaryFile(dir=out, suffix=".tmp", delete=False) as f:
        tmp = f.name
    save_file(state, tmp)
    os.replace(tmp, out / WEIGHTS_NAME)
    tmp_cfg = out / (CONFIG_NAME + ".tmp")
    tmp_cfg.write_text(json.dumps(model.config.to_dict(), indent=2))
    os.replace(tmp_cfg, out / CONFIG_NAME)
    return out


def load_model(path: str | os.PathLike, config: str | ModelConfig | None = None) -> PoseModel:
    """A model from a weights directory, a ``.safetensors`` file or an MMPose ``.pth``.

    Args:
        path: directory with ``config.json`` + ``model.safetensors``, or a file.
        config: preset name / config for files without a config (inferred from the state dict
            shapes when None).
    """
    p = Path(path)
    if not p.exists():
        raise ValueError(
            f"weights not found: {p} (expected a directory with {CONFIG_NAME} and "
            f"{WEIGHTS_NAME}, a .safetensors file or an MMPose .pth)"
        )
    if p.is_dir():
        cfg_file, w_file = p / CONFIG_NAME, p / WEIGHTS_NAME
        for f in (cfg_file, w_file):
            if not f.exists():
                raise ValueError(f"missing {f.name} in weights directory {p}")
        try:
            cfg = ModelConfig.from_dict(json.loads(cfg_file.read_text()))
        except json.JSONDecodeError as e:
            raise ValueError(f"malformed {cfg_file}: {e}") from None
        state = _load_safetensors(w_file)
    elif p.suffix == ".safetensors":
        state = _load_safetensors(p)
        side = p.with_name(CONFIG_NAME)
        if config is None and side.exists():
            cfg = ModelConfig.from_dict(json.loads(side.read_text()))
        else:
            cfg = get_config(config) if config is not None else infer_config(state)
    else:
        state = read_mmpose_checkpoint(p)
        cfg = get_config(config) if config is not None else infer_config(state)
    model = PoseModel(cfg)
    model.load_state_dict(convert_mmpose_state_dict(state, model))
    model.eval()
    return model


def _load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path))
    except Exception as e:  # safetensors raises its own error types for bad headers
        raise ValueError(f"cannot read safetensors file {path}: {e}") from None


def read_mmpose_checkpoint(path: str | os.PathLike, trust_pickle: bool = False) -> dict:
    """The tensor state dict of an MMPose/mmengine ``.pth`` (``state_dict`` key if present).

    Loads with ``weights_only=True`` unless ``trust_pickle`` (only for files you trust).
    """
    p = Path(path)
    try:
        obj = torch.load(p, map_location="cpu", weights_only=not trust_pickle)
    except Exception as e:
        raise ValueError(
            f"cannot read checkpoint {p}: {type(e).__name__}: {str(e)[:200]} (truncated or not a "
            "PyTorch file? pass trust_pickle=True only for files you trust)"
        ) from None
    if isinstance(obj, dict) and "state_dict" in obj:
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f"{p}: expected a state dict of tensors (optionally under 'state_dict')")
    return obj


def _strip(key: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in KNOWN_PREFIXES:
            if key.startswith(prefix):
                key, changed = key[len(prefix) :], True
    return key


def convert_mmpose_state_dict(
    state: dict[str, torch.Tensor], model: PoseModel, strict: bool = True
) -> dict[str, torch.Tensor]:
    """Map an MMPose-named state dict onto ``model``'s keys, asserting every key and shape.

    Strips ``module.`` / ``student.`` / ``model.`` prefixes and drops data-preprocessor, teacher
    and loss entries. Raises ValueError listing missing keys, unexpected keys and shape
    mismatches (``strict=False``: logs missing/unexpected, still raises on shape mismatch).
    """
    if any(k.startswith("student.") for k in state):
        state = {k: v for k, v in state.items() if k.startswith("student.")}
    target = model.state_dict()
    out: dict[str, torch.Tensor] = {}
    unexpected, mismatched = [], []
    for key, value in state.items():
        k = _strip(key)
        if k.startswith(IGNORED_PREFIXES):
            continue
        if k not in target:
            unexpected.append(k)
            continue
        if tuple(value.shape) != tuple(target[k].shape):
            mismatched.append(
                f"{k}: checkpoint {tuple(value.shape)} vs model {tuple(target[k].shape)}"
            )
            continue
        out[k] = value.to(target[k].dtype)
    missing = sorted(set(target) - set(out) - {m.split(":")[0] for m in mismatched})
    if mismatched:
        raise ValueError(
            f"{len(mismatched)} shape mismatches for {model.config.name}: "
            + "; ".join(mismatched[:10])
        )
    if missing or unexpected:
        msg = (
            f"checkpoint does not match {model.config.name}: {len(missing)} missing keys "
            f"{missing[:10]}, {len(unexpected)} unexpected keys {sorted(unexpected)[:10]}"
        )
        if strict:
            raise ValueError(msg)
        logger.warning(msg)
        for k in missing:
            out[k] = target[k]
    logger.info("converted %d tensors for %s", len(out), model.config.name)
    return out


def infer_config(state: dict[str, torch.Tensor]) -> ModelConfig:
    """Guess the preset of an MMPose state dict from tensor shapes (head type, width, depth,
    input size); ValueError when no preset fits."""
    st = {_strip(k): v for k, v in state.items()}
    try:
        stem = st["backbone.stem.0.conv.weight"].shape[0]
        n_blocks = 1 + max(
            int(k.split(".")[4]) for k in st if k.startswith("backbone.stage1.1.blocks.")
        )
        wx = st["head.cls_x.weight"].shape[0]
        wy = st["head.cls_y.weight"].shape[0]
    except (KeyError, ValueError) as e:
        raise ValueError(
            f"cannot infer the model from the checkpoint keys ({e}); pass a preset"
        ) from None
    head = "rtmw" if any(k.startswith("neck.") for k in st) else "rtmcc"
    from wholebody.models.config import PRESETS

    for cfg in PRESETS.values():
        ratio = cfg.simcc_split_ratio
        stem_mid = int(64 * cfg.widen_factor // 2)
        blocks = max(round(3 * cfg.deepen_factor), 1)
        size = (round(wx / ratio), round(wy / ratio))
        if cfg.head == head and stem_mid == stem and blocks == n_blocks and size == cfg.input_size:
            return cfg
    for cfg in PRESETS.values():
        if cfg.head == head and int(64 * cfg.widen_factor // 2) == stem:
            size = (round(wx / cfg.simcc_split_ratio), round(wy / cfg.simcc_split_ratio))
            return get_config(cfg, input_size=size)
    raise ValueError(f"no preset matches checkpoint (head {head}, stem {stem}, bins {wx}x{wy})")

"""Lifter weights on disk: ``config.json`` + ``model.safetensors`` in one directory.

The safetensors file holds the NNX parameter state flattened to ``{"a.b.0.kernel": ndarray}``
and also carries the config JSON in its metadata (key ``"config"``), so a lone ``.safetensors``
file is loadable too. ``config.meta`` is where training stores the input normalisation.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np
from flax import nnx
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from lifting.config import LifterConfig, config_from_dict, config_to_dict

__all__ = [
    "CONFIG_FILE",
    "WEIGHTS_FILE",
    "load_checkpoint",
    "load_state_dict",
    "load_weights",
    "read_config",
    "save_checkpoint",
    "state_dict",
]

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def _key(path: tuple) -> str:
    return ".".join(str(part) for part in path)


def state_dict(model: nnx.Module) -> dict[str, np.ndarray]:
    """Parameters as ``{dotted path: numpy array}`` (e.g. ``blocks_st.0.attn_s.qkv.kernel``)."""
    flat = nnx.state(model, nnx.Param).flat_state()
    return {_key(path): np.asarray(var.value) for path, var in flat}


def load_state_dict(model: nnx.Module, weights: dict[str, np.ndarray]) -> None:
    """Copy ``weights`` into ``model`` in place; every key and shape must match exactly.

    Arrays are cast to each parameter's current dtype.
    """
    state = nnx.state(model, nnx.Param)
    flat = {_key(path): (path, var) for path, var in state.flat_state()}
    missing = sorted(set(flat) - set(weights))
    unexpected = sorted(set(weights) - set(flat))
    if missing or unexpected:
        raise ValueError(
            f"checkpoint keys do not match the model: missing {missing[:8]}"
            f"{' ...' if len(missing) > 8 else ''} ({len(missing)}), unexpected {unexpected[:8]}"
            f"{' ...' if len(unexpected) > 8 else ''} ({len(unexpected)})"
        )
    pure: dict[Any, Any] = {}
    for key, (path, var) in flat.items():
        array = np.asarray(weights[key])
        if tuple(array.shape) != tuple(var.value.shape):
            raise ValueError(
                f"checkpoint array {key!r}: expected shape {tuple(var.value.shape)}, "
                f"got {tuple(array.shape)}"
            )
        if not np.all(np.isfinite(array.astype(np.float32))):
            raise ValueError(f"checkpoint array {key!r} contains NaN or inf")
        node = pure
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = jnp.asarray(array, dtype=var.value.dtype)
    state.replace_by_pure_dict(pure)
    nnx.update(model, state)


def _resolve(path: str | Path) -> tuple[Path, Path | None]:
    """(weights file, config file or None) for a checkpoint directory or ``.safetensors`` file."""
    path = Path(path)
    if path.is_dir():
        weights, config = path / WEIGHTS_FILE, path / CONFIG_FILE
    else:
        weights, config = path, path.with_name(CONFIG_FILE)
    if not weights.is_file():
        raise ValueError(
            f"lifter checkpoint not found: expected {weights} (a directory with {WEIGHTS_FILE} "
            f"and {CONFIG_FILE}, or a .safetensors file); train one with "
            "`python -m experiments.train_lifter` or convert MotionBERT weights with "
            "`python -m lifting.convert_motionbert`"
        )
    return weights, (config if config.is_file() else None)


def _read_weights(weights: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    try:
        from safetensors import safe_open

        with safe_open(str(weights), framework="numpy") as handle:
            metadata = dict(handle.metadata() or {})
        return load_file(str(weights)), metadata
    except (SafetensorError, OSError, ValueError) as err:
        raise ValueError(f"malformed safetensors file {weights}: {err}") from err


def read_config(path: str | Path) -> LifterConfig:
    """The :class:`LifterConfig` of a checkpoint (``config.json``, else safetensors metadata)."""
    weights, config_file = _resolve(path)
    if config_file is not None:
        try:
            data = json.loads(config_file.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"malformed lifter config {config_file}: {err}") from err
        return config_from_dict(data)
    _, metadata = _read_weights(weights)
    if "config" not in metadata:
        raise ValueError(
            f"no {CONFIG_FILE} next to {weights} and no 'config' entry in its metadata"
        )
    return config_from_dict(json.loads(metadata["config"]))


def atomic_write(target: Path, write) -> None:
    """Call ``write(tmp_path)`` then rename onto ``target``: never a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_checkpoint(
    model: nnx.Module, directory: str | Path, *, meta: dict[str, Any] | None = None
) -> Path:
    """Write ``config.json`` and ``model.safetensors`` into ``directory`` (atomically).

    Args:
        model: a :class:`lifting.model.DSTformer` (anything with a ``config``).
        directory: created if needed.
        meta: merged into ``config.meta`` (e.g. ``{"input_norm": {...}}``); JSON-serialisable.
    Returns:
        The directory.
    """
    import dataclasses

    config: LifterConfig = model.config
    if meta:
        config = dataclasses.replace(config, meta={**config.meta, **meta})
    config_json = json.dumps(config_to_dict(config), indent=2, sort_keys=True)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: np.ascontiguousarray(v) for k, v in state_dict(model).items()}
    atomic_write(
        directory / WEIGHTS_FILE,
        lambda tmp: save_file(tensors, tmp, metadata={"config": config_json}),
    )
    atomic_write(directory / CONFIG_FILE, lambda tmp: Path(tmp).write_text(config_json + "\n"))
    log.info("saved lifter checkpoint to %s", directory)
    return directory


def load_weights(model: nnx.Module, path: str | Path) -> None:
    """Load a checkpoint's parameters into an existing model (shapes must match)."""
    weights, _ = _resolve(path)
    tensors, _ = _read_weights(weights)
    load_state_dict(model, tensors)


def load_checkpoint(path: str | Path) -> nnx.Module:
    """Build the model described by a checkpoint and load its weights."""
    from lifting.model import DSTformer

    config = read_config(path)
    model = nnx.eval_shape(lambda: DSTformer(config, rngs=nnx.Rngs(0)))
    load_weights(model, path)
    return model

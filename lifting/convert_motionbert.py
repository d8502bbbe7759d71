"""MotionBERT (DSTformer) PyTorch checkpoints -> lifter parameters and checkpoints.

Accepts the released ``.bin``/``.pth`` files (``{"model_pos": state_dict, ...}``, keys prefixed
``module.``), a bare state dict, or the same layout in ``.safetensors``/``.npz``. Every key and
shape is checked against the config inferred from the weights. Torch is never imported.

Command line::

    python -m lifting.convert_motionbert best_epoch.bin OUT_DIR [--num-heads 8]
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from lifting.config import LifterConfig

__all__ = [
    "config_from_motionbert",
    "convert_motionbert_state_dict",
    "load_motionbert",
    "main",
    "motionbert_state_dict",
    "read_motionbert",
]

log = logging.getLogger(__name__)

_NORMS = ("norm1_s", "norm1_t", "norm2_s", "norm2_t")
_LINEARS = ("attn_s.qkv", "attn_s.proj", "attn_t.qkv", "attn_t.proj")
_MLPS = ("mlp_s", "mlp_t")


def motionbert_state_dict(checkpoint: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The model state dict of a MotionBERT checkpoint with ``module.`` prefixes removed."""
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f"expected a checkpoint dict, got {type(checkpoint).__name__}")
    state = checkpoint
    for key in ("model_pos", "model", "state_dict"):
        if key in checkpoint and isinstance(checkpoint[key], Mapping):
            state = checkpoint[key]
            break
    out = {}
    for key, value in state.items():
        name = key[len("module.") :] if key.startswith("module.") else key
        out[name] = np.asarray(value)
    if "joints_embed.weight" not in out:
        raise ValueError(
            "not a MotionBERT DSTformer state dict: no 'joints_embed.weight' "
            f"(found keys {sorted(out)[:6]}...)"
        )
    return out


def config_from_motionbert(
    state: Mapping[str, np.ndarray], *, num_heads: int = 8, name: str = "motionbert"
) -> LifterConfig:
    """Infer a :class:`LifterConfig` from DSTformer weight shapes (heads are not recoverable)."""
    dim, in_channels = state["joints_embed.weight"].shape
    depth = 0
    while f"blocks_st.{depth}.mlp_s.fc1.weight" in state:
        depth += 1
    if depth == 0:
        raise ValueError("not a MotionBERT DSTformer state dict: no 'blocks_st.0.*' keys")
    hidden = state["blocks_st.0.mlp_s.fc1.weight"].shape[0]
    if hidden % dim:
        raise ValueError(f"MLP width {hidden} is not a multiple of dim {dim}")
    return LifterConfig(
        name=name,
        num_joints=int(state["pos_embed"].shape[-2]),
        in_channels=int(in_channels),
        out_channels=int(state["head.weight"].shape[0]),
        dim=int(dim),
        depth=depth,
        num_heads=num_heads,
        mlp_ratio=hidden // dim,
        dim_rep=int(state["pre_logits.fc.weight"].shape[0]),
        maxlen=int(state["temp_embed"].shape[1]),
        # MotionBERT's in-the-wild inference normalises by the clip's bounding square and
        # predicts in those normalised units (not metres)
        meta={"source": "motionbert", "input_norm": "bbox", "output_unit": "normalized"},
    )


def _mapping(config: LifterConfig) -> dict[str, tuple[str, tuple[int, ...], bool]]:
    """Ours -> (MotionBERT key, MotionBERT shape, transpose) for every parameter."""
    d, r, c = config.dim, config.dim * config.mlp_ratio, config.in_channels
    out: dict[str, tuple[str, tuple[int, ...], bool]] = {}

    def linear(ours: str, theirs: str, n_in: int, n_out: int) -> None:
        out[f"{ours}.kernel"] = (f"{theirs}.weight", (n_out, n_in), True)
        out[f"{ours}.bias"] = (f"{theirs}.bias", (n_out,), False)

    linear("joints_embed", "joints_embed", c, d)
    out["pos_embed"] = ("pos_embed", (1, config.num_joints, d), False)
    out["temp_embed"] = ("temp_embed", (1, config.maxlen, 1, d), False)
    for stream in ("blocks_st", "blocks_ts"):
        for i in range(config.depth):
            p = f"{stream}.{i}"
            for norm in _NORMS:
                out[f"{p}.{norm}.scale"] = (f"{p}.{norm}.weight", (d,), False)
                out[f"{p}.{norm}.bias"] = (f"{p}.{norm}.bias", (d,), False)
            for lin in _LINEARS:
                linear(f"{p}.{lin}", f"{p}.{lin}", d, 3 * d if lin.endswith("qkv") else d)
            for mlp in _MLPS:
                linear(f"{p}.{mlp}.fc1", f"{p}.{mlp}.fc1", d, r)
                linear(f"{p}.{mlp}.fc2", f"{p}.{mlp}.fc2", r, d)
    for i in range(config.depth):
        linear(f"ts_attn.{i}", f"ts_attn.{i}", 2 * d, 2)
    out["norm.scale"] = ("norm.weight", (d,), False)
    out["norm.bias"] = ("norm.bias", (d,), False)
    linear("pre_logits", "pre_logits.fc", d, config.dim_rep)
    linear("head", "head", config.dim_rep, config.out_channels)
    return out


def convert_motionbert_state_dict(
    state: Mapping[str, np.ndarray], config: LifterConfig
) -> dict[str, np.ndarray]:
    """MotionBERT state dict (prefix already stripped) -> ``lifting.checkpoint`` layout.

    Raises:
        ValueError: any missing or unexpected key, or any shape differing from ``config``.
    """
    mapping = _mapping(config)
    expected = {theirs for theirs, _, _ in mapping.values()}
    missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or unexpected:
        raise ValueError(
            f"MotionBERT state dict does not match {config.name!r}: missing {missing[:8]} "
            f"({len(missing)}), unexpected {unexpected[:8]} ({len(unexpected)})"
        )
    params = {}
    for ours, (theirs, shape, transpose) in mapping.items():
        value = np.asarray(state[theirs], dtype=np.float32)
        if value.shape != shape:
            raise ValueError(f"MotionBERT {theirs!r}: expected shape {shape}, got {value.shape}")
        if transpose:
            value = value.T  # torch Linear [out, in] -> Flax kernel [in, out]
        elif ours in ("pos_embed", "temp_embed"):
            value = value.reshape(shape[1], shape[-1])  # drop singleton axes
        params[ours] = np.ascontiguousarray(value)
    return params


def read_motionbert(path: str | Path) -> dict[str, np.ndarray]:
    """Read a MotionBERT checkpoint file (``.bin``/``.pth``/``.pt``/``.safetensors``/``.npz``)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(
            f"MotionBERT checkpoint not found: {path} (the released weights, e.g. "
            "best_epoch.bin, are linked from github.com/Walter0807/MotionBERT)"
        )
    if path.suffix == ".safetensors":
        from safetensors.numpy import load_file

        return motionbert_state_dict(load_file(str(path)))
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            return motionbert_state_dict({k: data[k] for k in data.files})
    from lifting.torch_pickle import read_torch_checkpoint

    return motionbert_state_dict(read_torch_checkpoint(path))


def load_motionbert(path: str | Path, *, num_heads: int = 8):
    """A :class:`lifting.model.DSTformer` holding the weights of a MotionBERT checkpoint."""
    from flax import nnx

    from lifting.checkpoint import load_state_dict
    from lifting.model import DSTformer

    state = read_motionbert(path)
    config = config_from_motionbert(state, num_heads=num_heads, name=Path(path).stem)
    params = convert_motionbert_state_dict(state, config)
    model = nnx.eval_shape(lambda: DSTformer(config, rngs=nnx.Rngs(0)))
    load_state_dict(model, params)
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="MotionBERT .bin/.pth file")
    parser.add_argument("out", help="output directory (config.json + model.safetensors)")
    parser.add_argument(
        "--num-heads", type=int, default=8, help="attention heads (8 in MotionBERT)"
    )
    args = parser.parse_args(argv)
    from lifting.checkpoint import save_checkpoint

    model = load_motionbert(args.checkpoint, num_heads=args.num_heads)
    save_checkpoint(model, args.out, meta={"source_file": str(args.checkpoint)})
    log.info("converted %s -> %s", args.checkpoint, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

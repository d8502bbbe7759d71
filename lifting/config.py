"""Lifter configuration: one frozen dataclass and named presets.

Presets follow MotionBERT's DSTformer (``configs/pose3d/MB_*.yaml``): ``motionbert`` has exactly
42,466,317 parameters at 17 joints; ``motionbert-lite`` 16,001,549. ``small`` and ``tiny`` are CPU
presets for training and tests.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CONFIGS",
    "DEFAULT_KEYPOINT_SETS",
    "LifterConfig",
    "config_from_dict",
    "config_to_dict",
    "get_config",
]


@dataclass(frozen=True)
class LifterConfig:
    """DSTformer hyper-parameters.

    ``meta`` is free-form JSON data saved with the weights (for example the input normalisation
    used in training); it is excluded from equality and hashing so the config stays usable as
    static metadata under ``jit``.
    """

    name: str = "motionbert"  # preset name or a user label
    num_joints: int = 17  # J, tokens per frame (17 for H36M, 133 for whole-body)
    in_channels: int = 3  # per-joint input: normalised x, y and 2D confidence
    out_channels: int = 3  # per-joint output: x, y, z
    dim: int = 512  # D, token width
    depth: int = 5  # number of (spatial-temporal, temporal-spatial) block pairs
    num_heads: int = 8  # attention heads (dim must be divisible by it)
    mlp_ratio: int = 2  # MLP hidden width = dim * mlp_ratio
    dim_rep: int = 512  # width of the motion representation (pre_logits)
    maxlen: int = 243  # longest clip (rows of the temporal positional table)
    layer_norm_eps: float = 1e-6  # LayerNorm epsilon (MotionBERT sets 1e-6)
    causal: bool = False  # temporal attention sees only past and current frames
    keypoint_set: str = "h36m"  # wholebody.keypoints set naming the J joints (flip pairs)
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        positive = ("num_joints", "in_channels", "out_channels", "dim", "depth", "num_heads")
        for key in (*positive, "mlp_ratio", "dim_rep", "maxlen"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"LifterConfig.{key} must be a positive int, got {value!r}")
        if self.dim % self.num_heads:
            raise ValueError(
                f"LifterConfig.dim ({self.dim}) must be divisible by num_heads ({self.num_heads})"
            )
        if not isinstance(self.meta, dict):
            raise ValueError(f"LifterConfig.meta must be a dict, got {type(self.meta).__name__}")

    @property
    def head_dim(self) -> int:
        return self.dim // self.num_heads


CONFIGS: dict[str, LifterConfig] = {
    "motionbert": LifterConfig(name="motionbert"),
    "motionbert-lite": LifterConfig(name="motionbert-lite", dim=256, mlp_ratio=4),
    "small": LifterConfig(name="small", dim=64, depth=2, num_heads=4, dim_rep=128),
    "tiny": LifterConfig(name="tiny", dim=32, depth=1, num_heads=2, dim_rep=32, maxlen=81),
}


# keypoint set assumed for a joint count when a config's set has another size
DEFAULT_KEYPOINT_SETS = {17: "h36m", 133: "coco_wholebody"}
_SET_SIZES = {"h36m": 17, "coco": 17, "coco_wholebody": 133}


def get_config(name_or_config: str | LifterConfig, **overrides: Any) -> LifterConfig:
    """A preset by name (or a config), with ``dataclasses.replace`` overrides applied.

    Changing ``num_joints`` without naming ``keypoint_set`` picks the default set for that
    count (17 -> ``h36m``, 133 -> ``coco_wholebody``).
    """
    if isinstance(name_or_config, LifterConfig):
        config = name_or_config
    elif isinstance(name_or_config, str):
        if name_or_config not in CONFIGS:
            raise ValueError(
                f"unknown lifter preset {name_or_config!r}, expected one of {sorted(CONFIGS)}"
            )
        config = CONFIGS[name_or_config]
    else:
        raise ValueError(
            f"expected a preset name or LifterConfig, got {type(name_or_config).__name__}"
        )
    overrides = {k: v for k, v in overrides.items() if v is not None}
    num_joints = overrides.get("num_joints", config.num_joints)
    keypoint_set = overrides.get("keypoint_set", config.keypoint_set)
    if _SET_SIZES.get(keypoint_set, num_joints) != num_joints:
        if num_joints in DEFAULT_KEYPOINT_SETS:
            overrides["keypoint_set"] = DEFAULT_KEYPOINT_SETS[num_joints]
    return dataclasses.replace(config, **overrides) if overrides else config


def config_to_dict(config: LifterConfig) -> dict[str, Any]:
    """JSON-ready dict of every field (``meta`` included)."""
    data = dataclasses.asdict(config)
    json.dumps(data)  # fail early on non-JSON meta
    return data


def config_from_dict(data: dict[str, Any]) -> LifterConfig:
    """Inverse of :func:`config_to_dict`; unknown keys are an error."""
    if not isinstance(data, dict):
        raise ValueError(f"lifter config must be a JSON object, got {type(data).__name__}")
    known = {f.name for f in dataclasses.fields(LifterConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(
            f"unknown lifter config keys {unknown}, expected a subset of {sorted(known)}"
        )
    return LifterConfig(**data)

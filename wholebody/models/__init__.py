"""Whole-body 2D models (PyTorch): CSPNeXt + RTMCC / RTMW SimCC heads, heatmap head.

``create_model(name, **overrides)`` builds a preset from ``PRESETS`` (or a ``ModelConfig``).
"""

from __future__ import annotations

from wholebody.models.config import ALIASES, PRESETS, ModelConfig, get_config
from wholebody.models.estimator import PoseModel, count_parameters, recalibrate_batchnorm
from wholebody.models.estimator import count_macs as _count_macs


def create_model(name: str | ModelConfig, **overrides) -> PoseModel:
    """A randomly initialised model for a preset name / alias / config, with config overrides.

    Load weights with ``wholebody.checkpoint.load_model`` (safetensors dir, MMPose .pth).
    """
    return PoseModel(get_config(name, **overrides))


def count_macs(name: str | ModelConfig, **overrides) -> float:
    """Multiply-accumulates of one crop for a preset / config (meta device, instant)."""
    return _count_macs(get_config(name, **overrides))


__all__ = [
    "ALIASES",
    "PRESETS",
    "ModelConfig",
    "PoseModel",
    "count_macs",
    "count_parameters",
    "create_model",
    "get_config",
    "recalibrate_batchnorm",
]

"""Temporal 2D->3D lifting (JAX/Flax NNX + optax). Never imports torch.

The model API is imported lazily (on first attribute access) so ``import lifting`` stays cheap.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "CONFIGS": "lifting.config",
    "LifterConfig": "lifting.config",
    "get_config": "lifting.config",
    "DSTformer": "lifting.model",
    "count_parameters": "lifting.model",
    "create_model": "lifting.model",
    "load_checkpoint": "lifting.checkpoint",
    "save_checkpoint": "lifting.checkpoint",
    "load_motionbert": "lifting.convert_motionbert",
    "OnlineLifter": "lifting.inference",
    "flip_tta": "lifting.inference",
    "lift_clips": "lifting.inference",
    "lift_sequence": "lifting.inference",
    "make_predictor": "lifting.inference",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'lifting' has no attribute {name!r}")

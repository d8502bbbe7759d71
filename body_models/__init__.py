"""SMPL-X-layout body models, fitting and motion-file export (numpy + JAX maths).

Numpy-only names import eagerly; JAX-backed names (``body_forward``, ``fit_sequence``, ...) load on
first access so that ``import body_models`` stays light.
"""

from body_models.model_file import OPEN_MODEL_DIR, OPEN_MODEL_FILE, ModelData, load_model_file
from body_models.synthetic import random_model_file

_LAZY = {
    "BodyOutput": "body_models.forward",
    "BodyForward": "body_models.forward",
    "body_forward": "body_models.forward",
    "rest_joints": "body_models.forward",
    "FitConfig": "body_models.fitting",
    "FitResult": "body_models.fitting",
    "fit_sequence": "body_models.fitting",
}

__all__ = [
    "OPEN_MODEL_DIR",
    "OPEN_MODEL_FILE",
    "ModelData",
    "load_model_file",
    "random_model_file",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'body_models' has no attribute {name!r}")

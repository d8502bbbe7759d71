"""Fitting SMPL-X-layout bodies to whole-body keypoint sequences (JAX)."""

from body_models.fitting.config import CONFIGS, FitConfig, StageConfig, get_config
from body_models.fitting.solver import FitResult, fit_sequence

__all__ = ["CONFIGS", "FitConfig", "FitResult", "StageConfig", "fit_sequence", "get_config"]

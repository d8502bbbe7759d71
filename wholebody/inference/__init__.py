"""Top-down inference: predictors, PyTorch / ONNX Runtime backends, ONNX export, detectors."""

from wholebody.inference.backends import TorchBackend
from wholebody.inference.topdown import PoseResult, TopdownPredictor

__all__ = ["PoseResult", "TopdownPredictor", "TorchBackend"]

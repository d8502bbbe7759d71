"""Top-down inference: predictors, PyTorch / ONNX Runtime backends, ONNX export, detectors."""

from wholebody.inference.backends import TorchBackend, fuse_conv_bn
from wholebody.inference.pipeline import PeopleResult, WholebodyPipeline
from wholebody.inference.topdown import PoseResult, TopdownPredictor

__all__ = [
    "PeopleResult",
    "PoseResult",
    "TopdownPredictor",
    "TorchBackend",
    "WholebodyPipeline",
    "fuse_conv_bn",
]

"""Training of whole-body SimCC models: loop, schedule, checkpoints, validation."""

from wholebody.training.loop import TrainConfig, train
from wholebody.training.validate import evaluate_model, predict_dataset

__all__ = ["TrainConfig", "evaluate_model", "predict_dataset", "train"]

"""COCO-WholeBody data: annotation parsing, top-down training samples, augmentations and a
synthetic rendered dataset."""

from wholebody.data.coco_wholebody import CocoWholeBodyDataset, Instance, collate, parse_annotations
from wholebody.data.synthetic import make_synthetic_dataset
from wholebody.data.transforms import AugmentConfig, flip_keypoints_horizontal

__all__ = [
    "AugmentConfig",
    "CocoWholeBodyDataset",
    "Instance",
    "collate",
    "flip_keypoints_horizontal",
    "make_synthetic_dataset",
    "parse_annotations",
]

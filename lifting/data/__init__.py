"""Lifting data: Human3.6M (VideoPose3D npz, MotionBERT pkl), clips, flips, virtual cameras."""

from lifting.data.augment import flip_pose, random_flip
from lifting.data.clips import clip_indices, motionbert_split_clips, resample_indices
from lifting.data.dataset import (
    ClipData,
    make_clips,
    root_indices,
    root_relative,
    sequence_input,
    sequence_target,
)
from lifting.data.h36m import (
    ACTIONS,
    TEST_SUBJECTS,
    TRAIN_SUBJECTS,
    action_group,
    ground_truth_camera_frame,
    h36m_sequences,
    load_h36m_2d,
    load_h36m_3d,
    mocap32_to_h36m17,
)
from lifting.data.h36m_cameras import CAMERA_IDS, h36m_camera, project_h36m
from lifting.data.motionbert import MOTIONBERT_EXCLUDED, load_motionbert_pkl, parse_source
from lifting.data.sequence import PoseSequence
from lifting.data.synthetic import VirtualCameraConfig, random_camera, virtual_camera_sequences

__all__ = [
    "ACTIONS",
    "CAMERA_IDS",
    "MOTIONBERT_EXCLUDED",
    "TEST_SUBJECTS",
    "TRAIN_SUBJECTS",
    "ClipData",
    "PoseSequence",
    "VirtualCameraConfig",
    "action_group",
    "clip_indices",
    "flip_pose",
    "ground_truth_camera_frame",
    "h36m_camera",
    "h36m_sequences",
    "load_h36m_2d",
    "load_h36m_3d",
    "load_motionbert_pkl",
    "make_clips",
    "mocap32_to_h36m17",
    "motionbert_split_clips",
    "parse_source",
    "project_h36m",
    "random_camera",
    "random_flip",
    "resample_indices",
    "root_indices",
    "root_relative",
    "sequence_input",
    "sequence_target",
    "virtual_camera_sequences",
]

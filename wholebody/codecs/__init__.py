"""Keypoint codecs (numpy): SimCC labels (RTMPose/RTMW) and Gaussian heatmaps with DARK decoding."""

from wholebody.codecs.heatmap import decode_heatmap, encode_heatmap, refine_dark
from wholebody.codecs.simcc import decode_simcc, encode_simcc, flip_simcc, simcc_visibility

__all__ = [
    "decode_heatmap",
    "decode_simcc",
    "encode_heatmap",
    "encode_simcc",
    "flip_simcc",
    "refine_dark",
    "simcc_visibility",
]

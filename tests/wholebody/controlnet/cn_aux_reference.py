"""Run controlnet_aux's own DWPose post-processing and drawing on given keypoints.

controlnet_aux's package ``__init__`` imports every annotator (timm, torchvision, ...), so the
``controlnet_aux`` package object is created here without running it; ``controlnet_aux.dwpose``
(``DWposeDetector``, ``draw_pose``, ``util``) and ``controlnet_aux.dwpose.wholebody``
(``Wholebody.__call__``: neck synthesis, remap to 18 points) then import normally. The mmdet /
mmpose calls inside ``Wholebody.__call__`` are replaced by fakes returning the given keypoints,
so everything after the network (thresholds, conversion, canvas sizing, drawing, resizing) is
controlnet_aux's code.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
import warnings

import numpy as np


def available() -> bool:
    return importlib.util.find_spec("controlnet_aux") is not None and (
        importlib.util.find_spec("cv2") is not None
    )


def _modules():
    if "controlnet_aux" not in sys.modules:
        spec = importlib.util.find_spec("controlnet_aux")
        pkg = types.ModuleType("controlnet_aux")
        pkg.__path__ = list(spec.submodule_search_locations)
        pkg.__spec__ = spec
        sys.modules["controlnet_aux"] = pkg
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "mmcv / mmpose / mmdet not installed"
        dwpose = importlib.import_module("controlnet_aux.dwpose")
        wholebody = importlib.import_module("controlnet_aux.dwpose.wholebody")
    return dwpose, wholebody


class _Preds(dict):
    """Stands in for mmpose's ``pred_instances`` (attribute access, ``get``, ``in``)."""

    __getattr__ = dict.__getitem__


def _ns(**kw):
    return types.SimpleNamespace(**kw)


def reference_detector(keypoints: np.ndarray, scores: np.ndarray):
    """A controlnet_aux ``DWposeDetector`` whose network returns these ``(N, 133, 2)`` keypoints
    (pixels of the detect-resolution image) and ``(N, 133)`` scores, all float32 as mmpose."""
    dwpose, wb = _modules()
    kp = np.asarray(keypoints, np.float32)
    sc = np.asarray(scores, np.float32)
    no_boxes = _ns(bboxes=np.zeros((0, 4), np.float32), scores=np.zeros(0, np.float32),
                   labels=np.zeros(0, np.int64))  # fmt: skip
    no_boxes.cpu = lambda: _ns(numpy=lambda: no_boxes)
    wb.inference_detector = lambda detector, image: _ns(pred_instances=no_boxes)
    wb.nms = lambda boxes, thr: []
    wb.inference_topdown = lambda model, image, *boxes: ["pose"]
    preds = _Preds(keypoints=kp.copy(), keypoint_scores=sc.copy(), keypoints_visible=sc.copy())
    wb.merge_data_samples = lambda results: _ns(pred_instances=preds)
    estimator = wb.Wholebody.__new__(wb.Wholebody)
    estimator.detector = estimator.pose_estimator = None
    detector = dwpose.DWposeDetector.__new__(dwpose.DWposeDetector)
    detector.pose_estimation = estimator
    return detector


def reference_map(keypoints, scores, image_size, detect_resolution, image_resolution):
    """controlnet_aux's map for an ``image_size`` (H, W) input whose detect-resolution keypoints
    are given; returns the ``(H', W', 3)`` uint8 RGB array it produces."""
    h, w = image_size
    detector = reference_detector(keypoints, scores)
    image = np.zeros((h, w, 3), np.uint8)
    return np.asarray(detector(image, detect_resolution, image_resolution, output_type="np"))


def matplotlib_hand_colours() -> list[np.ndarray]:
    """The hand edge colours exactly as the reference computes them."""
    import matplotlib.colors

    return [matplotlib.colors.hsv_to_rgb([ie / 20.0, 1.0, 1.0]) * 255 for ie in range(20)]

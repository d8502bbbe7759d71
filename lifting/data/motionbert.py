"""MotionBERT's Human3.6M pickle ``h36m_sh_conf_cam_source_final.pkl`` (numpy).

Layout (``lib/data/datareader_h36m.py``): ``{"train": {...}, "test": {...}}`` of flat
per-frame arrays over all subjects, actions and cameras: ``joint_2d (N, 17, 2)`` pixels,
``confidence (N, 17)`` or ``(N, 17, 1)``, ``joint3d_image (N, 17, 3)`` (x, y pixels, z depth
in pixel units), ``camera_name``, ``source`` (``"s_09_act_05_subact_02_ca_01"``); the test
split adds ``action``, ``2.5d_factor (N,)`` (pixel units -> mm) and ``joints_2.5d_image``.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lifting.data.h36m_cameras import camera_resolution
from lifting.normalize import screen_normalize, screen_scale_depth

# Sequences MotionBERT's evaluation skips (its ``block_list``).
MOTIONBERT_EXCLUDED = ("s_09_act_05_subact_02", "s_09_act_10_subact_02", "s_09_act_13_subact_01")
REQUIRED = ("joint_2d", "joint3d_image", "camera_name", "source")
REQUIRED_TEST = ("action", "2.5d_factor", "joints_2.5d_image")
_SOURCE = re.compile(r"^s_(\d+)_act_(\d+)_subact_(\d+)_ca_(\d+)$")


@dataclass(frozen=True, eq=False)
class MotionBERTSplit:
    """One split as flat per-frame arrays (N frames)."""

    joint_2d: np.ndarray  # (N, 17, 2) pixels
    confidence: np.ndarray  # (N, 17)
    joint3d_image: np.ndarray  # (N, 17, 3) pixel units
    camera_name: np.ndarray  # (N,) str
    source: np.ndarray  # (N,) str
    action: np.ndarray | None = None  # (N,) str, test only
    factor_2_5d: np.ndarray | None = None  # (N,) pixel units -> mm, test only
    joints_2_5d: np.ndarray | None = None  # (N, 17, 3) mm, test only

    def __len__(self) -> int:
        return len(self.source)

    def sequence_name(self, index: int) -> str:
        """``source`` without the camera suffix (the key used by ``MOTIONBERT_EXCLUDED``)."""
        return str(self.source[index])[:-6]

    def normalized_input(self) -> np.ndarray:
        """``(N, 17, 3)`` screen-normalised (x, y) plus confidence, as MotionBERT feeds it."""
        out = np.empty(self.joint_2d.shape[:2] + (3,), np.float32)
        for cam in np.unique(self.camera_name):
            sel = self.camera_name == cam
            w, h = camera_resolution(str(cam))
            out[sel, :, :2] = screen_normalize(self.joint_2d[sel], w, h)
        out[..., 2] = self.confidence
        return out

    def normalized_target(self) -> np.ndarray:
        """``(N, 17, 3)`` 2.5D target in screen units (x, y as the input, z * 2 / w)."""
        out = np.empty(self.joint3d_image.shape, np.float32)
        for cam in np.unique(self.camera_name):
            sel = self.camera_name == cam
            w, h = camera_resolution(str(cam))
            out[sel, :, :2] = screen_normalize(self.joint3d_image[sel, :, :2], w, h)
            out[sel, :, 2] = screen_scale_depth(self.joint3d_image[sel, :, 2], w)
        return out


def parse_source(source: str) -> tuple[str, int, int, int]:
    """``"s_09_act_05_subact_02_ca_01"`` -> (``"S9"``, action 5, sub-action 2, camera 1)."""
    m = _SOURCE.match(str(source))
    if m is None:
        raise ValueError(f"source: expected 's_SS_act_AA_subact_BB_ca_CC', got {source!r}")
    s, a, b, c = (int(g) for g in m.groups())
    return f"S{s}", a, b, c


def _split(raw: dict, name: str, path: Path) -> MotionBERTSplit:
    need = REQUIRED + (REQUIRED_TEST if name == "test" else ())
    missing = [k for k in need if k not in raw]
    if missing:
        raise ValueError(f"{path}: split {name!r} is missing keys {missing}, has {sorted(raw)}")
    n = len(raw["source"])

    def arr(key, tail, dtype=np.float32):
        a = np.asarray(raw[key], dtype=dtype)
        if a.shape[:1] != (n,) or a.shape[1:] != tail:
            raise ValueError(f"{path}: {name}/{key} expected shape {(n,) + tail}, got {a.shape}")
        if dtype is np.float32 and not np.all(np.isfinite(a)):
            raise ValueError(f"{path}: {name}/{key} expected finite values, got NaN/inf")
        return a

    kp2 = np.asarray(raw["joint_2d"], dtype=np.float32)
    if kp2.ndim == 3 and kp2.shape[-1] > 2:
        kp2 = kp2[..., :2]
    raw = dict(raw, joint_2d=kp2)
    if "confidence" in raw:
        conf = np.asarray(raw["confidence"], dtype=np.float32)
        conf = conf[..., 0] if conf.ndim == 3 and conf.shape[-1] == 1 else conf
        raw["confidence"] = conf
        conf = arr("confidence", (17,))
    else:
        conf = np.ones((n, 17), np.float32)
    split = MotionBERTSplit(
        joint_2d=arr("joint_2d", (17, 2)),
        confidence=conf,
        joint3d_image=arr("joint3d_image", (17, 3)),
        camera_name=arr("camera_name", (), dtype=str),
        source=arr("source", (), dtype=str),
        action=arr("action", (), dtype=str) if name == "test" else None,
        factor_2_5d=arr("2.5d_factor", ()) if name == "test" else None,
        joints_2_5d=arr("joints_2.5d_image", (17, 3)) if name == "test" else None,
    )
    for cam in np.unique(split.camera_name):
        camera_resolution(str(cam))  # raises on an unknown camera id
    return split


def load_motionbert_pkl(path: str | Path) -> dict[str, MotionBERTSplit]:
    """Read the pickle -> ``{"train": MotionBERTSplit, "test": MotionBERTSplit}``.

    Raises:
        ValueError: missing file (with where to get it), unreadable pickle, missing keys,
            inconsistent lengths or shapes, NaN, unknown camera ids.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(
            f"missing file {path}: download h36m_sh_conf_cam_source_final.pkl as described in "
            "MotionBERT's docs/pose3d.md (Human3.6M licence applies)"
        )
    try:
        with open(path, "rb") as f:
            raw = pickle.load(f)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError) as err:
        raise ValueError(f"{path}: not a readable pickle ({err})") from None
    if not isinstance(raw, dict) or not {"train", "test"} <= set(raw):
        keys = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise ValueError(f"{path}: expected a dict with 'train' and 'test', got {keys}")
    return {name: _split(raw[name], name, path) for name in ("train", "test")}

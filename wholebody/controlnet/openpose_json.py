"""OpenPose JSON in the ControlNet dialect (sd-webui-controlnet, comfyui_controlnet_aux, the
openpose editor), one frame or a per-frame list (ComfyUI ``POSE_KEYPOINT``).

A frame: ``{"people": [{"pose_keypoints_2d": 18 x (x, y, c), "face_keypoints_2d": 70 x 3 |
null, "hand_left_keypoints_2d": 21 x 3 | null, "hand_right_keypoints_2d": 21 x 3 | null}],
"canvas_height": H, "canvas_width": W}``; x, y in canvas pixels; c = 1.0 for a present point,
missing points are ``0, 0, 0``; a face or hand with no present point is ``null``. Face 70 = the
68 landmarks + body right eye, left eye. Present means drawn: body score > 0.3, face/hand
score >= 0.3. The reader also takes CMU OpenPose files (BODY_25 converted by name, real
confidences kept as scores) and normalised coordinates (detected as the ControlNet tools do).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wholebody.controlnet.draw import PoseStyle, get_style
from wholebody.controlnet.layout import FOOT_NAMES, OpenPosePeople, empty_people
from wholebody.keypoints import BODY25, OPENPOSE18

JSON_KEYS = {
    "body": "pose_keypoints_2d",
    "face": "face_keypoints_2d",
    "left_hand": "hand_left_keypoints_2d",
    "right_hand": "hand_right_keypoints_2d",
}
_COUNTS = {"body": (18, 25), "face": (70, 68), "left_hand": (21,), "right_hand": (21,)}


@dataclass(frozen=True, eq=False)
class PoseFrame:
    """People of one frame and the canvas ``(height, width)`` their pixels refer to."""

    people: OpenPosePeople
    height: int
    width: int


def _present(part: str, scores: np.ndarray, style: PoseStyle) -> np.ndarray:
    if part == "body":  # as drawn: > threshold, or >= for the person-order (sd-webui) style
        thr = np.float32(style.body_threshold)
        return scores >= thr if style.order == "person" else scores > thr
    return scores >= np.float32(style.part_threshold)


def _triplets(points: np.ndarray, present: np.ndarray) -> list[float]:
    out: list[float] = []
    for (x, y), ok in zip(points.tolist(), present.tolist()):
        out.extend((float(x), float(y), 1.0) if ok else (0.0, 0.0, 0.0))
    return out


def frame_to_dict(frame: PoseFrame, style: str | PoseStyle | None = None) -> dict:
    """One frame as a ControlNet-dialect dict (thresholds from ``style``)."""
    style = get_style(style)
    people = frame.people.with_face70()
    out = []
    for n in range(len(people)):
        person = {}
        for part, key in JSON_KEYS.items():
            points, scores = people.part(part)
            present = _present(part, scores[n], style)
            if part != "body" and not present.any():
                person[key] = None
            else:
                person[key] = _triplets(points[n], present)
        out.append(person)
    return {"people": out, "canvas_height": int(frame.height), "canvas_width": int(frame.width)}


def _part_from_json(values, part: str, n_person: int, size, coords: str):
    """``(J, 2)`` pixels and ``(J,)`` scores from a flat triplet list (None -> None)."""
    if values is None:
        return None
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size % 3 or arr.size // 3 not in _COUNTS[part]:
        raise ValueError(
            f"person {n_person} {JSON_KEYS[part]}: expected {_COUNTS[part]} triplets, "
            f"got {arr.size} numbers"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"person {n_person} {JSON_KEYS[part]}: expected finite numbers")
    tri = arr.reshape(-1, 3)
    xy, c = tri[:, :2].copy(), np.clip(tri[:, 2], 0.0, 1.0)
    present = c > 0
    normalised = coords == "normalized" or (
        coords == "auto" and present.any() and np.all(np.abs(xy[present]) <= 1.0)
    )
    if normalised:
        xy = xy * np.array([size[1], size[0]], dtype=np.float64)
    xy[~present] = 0.0
    return xy.astype(np.float32), c.astype(np.float32)


def _body25_to_18(xy: np.ndarray, c: np.ndarray):
    body = np.array([BODY25.index(n) for n in OPENPOSE18.names])
    feet = np.array([BODY25.index(n) for n in FOOT_NAMES])
    return (xy[body], c[body]), (xy[feet], c[feet])


def frame_from_dict(data: dict, coords: str = "auto", canvas_size=None) -> PoseFrame:
    """Parse one frame dict.

    Args:
        data: a ControlNet-dialect or CMU OpenPose frame.
        coords: ``"auto"`` (normalised iff every present point of a part has |x|, |y| <= 1,
            the ControlNet tools' rule), ``"pixels"`` or ``"normalized"``.
        canvas_size: ``(height, width)`` for files without ``canvas_height/width`` (CMU).
    """
    if not isinstance(data, dict) or not isinstance(data.get("people"), list):
        raise ValueError("OpenPose frame: expected a dict with a 'people' list")
    if coords not in ("auto", "pixels", "normalized"):
        raise ValueError(f"coords: expected auto, pixels or normalized, got {coords!r}")
    if "canvas_height" in data and "canvas_width" in data:
        size = (int(data["canvas_height"]), int(data["canvas_width"]))
    elif canvas_size is not None:
        size = (int(canvas_size[0]), int(canvas_size[1]))
    else:
        raise ValueError("OpenPose frame: missing canvas_height/canvas_width; pass canvas_size")
    if size[0] <= 0 or size[1] <= 0:
        raise ValueError(f"OpenPose frame: expected a positive canvas size, got {size}")
    face_n = 70
    for person in data["people"]:
        face = person.get(JSON_KEYS["face"])
        if face is not None and len(face) == 68 * 3:
            face_n = 68
    people = empty_people(face_n)
    cols = {f: [] for f in ("body", "feet", "face", "left_hand", "right_hand")}
    for i, person in enumerate(data["people"]):
        if not isinstance(person, dict):
            raise ValueError(f"person {i}: expected a dict, got {type(person).__name__}")
        feet = None
        for part, key in JSON_KEYS.items():
            parsed = _part_from_json(person.get(key), part, i, size, coords)
            if part == "body" and parsed is not None and parsed[0].shape[0] == 25:
                parsed, feet = _body25_to_18(*parsed)
            if part == "face" and parsed is not None and parsed[0].shape[0] != face_n:
                raise ValueError(f"person {i}: face point counts differ between people")
            cols[part].append(parsed)
        cols["feet"].append(feet)
    kw = {}
    for part, items in cols.items():
        j = getattr(people, part).shape[1]
        xy = np.zeros((len(items), j, 2), np.float32)
        sc = np.zeros((len(items), j), np.float32)
        for n, item in enumerate(items):
            if item is not None:
                xy[n], sc[n] = item
        kw[part], kw[part + "_scores"] = xy, sc
    return PoseFrame(OpenPosePeople(**kw), *size)


def write_openpose_json(path, frames, style: str | PoseStyle | None = None) -> None:
    """Write a `PoseFrame` (one frame dict) or a sequence of them (a per-frame list),
    atomically (temp file + rename)."""
    if isinstance(frames, PoseFrame):
        data = frame_to_dict(frames, style)
    else:
        data = [frame_to_dict(f, style) for f in frames]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def read_openpose_json(path, coords: str = "auto", canvas_size=None) -> list[PoseFrame]:
    """Read a frame dict or a per-frame list; always returns a list of `PoseFrame`."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"OpenPose JSON file not found: {path}")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err
    frames = data if isinstance(data, list) else [data]
    return [frame_from_dict(f, coords, canvas_size) for f in frames]

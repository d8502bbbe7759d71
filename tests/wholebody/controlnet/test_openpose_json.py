"""OpenPose JSON (ControlNet dialect): exact round trips, dialect details, bad files."""

import json

import numpy as np
import pytest

from tests.wholebody.controlnet.posegen import random_people
from wholebody.controlnet import draw_pose, from_coco_wholebody
from wholebody.controlnet.openpose_json import (
    PoseFrame,
    frame_from_dict,
    frame_to_dict,
    read_openpose_json,
    write_openpose_json,
)
from wholebody.keypoints import BODY25, OPENPOSE18


def _frames(rng, count=4, size=(384, 512)):
    frames = []
    for t in range(count):
        kp, sc = random_people(rng, t % 3 + 1 if t else 0, *size)
        frames.append(PoseFrame(from_coco_wholebody(kp, sc), *size))
    return frames


def test_round_trip_exact(tmp_path):
    frames = _frames(np.random.default_rng(0))
    path = tmp_path / "openpose.json"
    write_openpose_json(path, frames)
    data = json.loads(path.read_text())
    assert isinstance(data, list) and len(data) == 4 and data[0]["people"] == []
    back = read_openpose_json(path)
    # JSON -> frames -> JSON is the identity, byte for byte.
    write_openpose_json(tmp_path / "again.json", back)
    assert (tmp_path / "again.json").read_text() == path.read_text()
    for frame, got in zip(frames, back):
        assert (got.height, got.width) == (frame.height, frame.width)
        p, q = frame.people.with_face70(), got.people
        present = p.body_scores > np.float32(0.3)
        np.testing.assert_array_equal(q.body[present], p.body[present])  # exact floats
        np.testing.assert_array_equal(q.body_scores, present.astype(np.float32))
        hand = p.left_hand_scores >= np.float32(0.3)
        np.testing.assert_array_equal(q.left_hand[hand], p.left_hand[hand])
        assert q.face.shape[1] == 70
        # Re-rendering the JSON gives the same map as the keypoints.
        np.testing.assert_array_equal(
            draw_pose(q, got.height, got.width), draw_pose(frame.people, frame.height, frame.width)
        )


def test_dialect_layout():
    kp, sc = random_people(np.random.default_rng(1), 1, 256, 256)
    sc[0, 91:112] = 0.0  # left hand missing entirely
    d = frame_to_dict(PoseFrame(from_coco_wholebody(kp, sc), 256, 256))
    person = d["people"][0]
    assert len(person["pose_keypoints_2d"]) == 18 * 3
    assert len(person["face_keypoints_2d"]) == 70 * 3
    assert person["hand_left_keypoints_2d"] is None
    assert len(person["hand_right_keypoints_2d"]) == 21 * 3
    assert set(person["pose_keypoints_2d"][2::3]) <= {0.0, 1.0}
    assert (d["canvas_height"], d["canvas_width"]) == (256, 256)
    # The last two face points are the body right eye, left eye.
    body = np.reshape(person["pose_keypoints_2d"], (18, 3))
    face = np.reshape(person["face_keypoints_2d"], (70, 3))
    for k, name in zip((68, 69), ("right_eye", "left_eye")):
        if body[OPENPOSE18.index(name), 2] == 1.0:
            np.testing.assert_array_equal(face[k, :2], body[OPENPOSE18.index(name), :2])


def test_normalised_coordinates_and_cmu_body25():
    # A normalised ControlNet frame (as the OpenPose-net annotator emits) reads as pixels.
    body = [0.5, 0.25, 1.0] + [0.0, 0.0, 0.0] * 17
    frame = frame_from_dict(
        {"people": [{"pose_keypoints_2d": body}], "canvas_height": 200, "canvas_width": 400}
    )
    np.testing.assert_allclose(frame.people.body[0, 0], [200.0, 50.0])
    # CMU BODY_25 with real confidences and no canvas: converted by name, scores kept.
    b25 = np.zeros((25, 3))
    b25[BODY25.index("neck")] = [10.0, 20.0, 0.85]
    b25[BODY25.index("left_heel")] = [30.0, 40.0, 0.6]
    cmu = {"version": 1.3, "people": [{"pose_keypoints_2d": b25.ravel().tolist()}]}
    frame = frame_from_dict(cmu, canvas_size=(100, 100))
    assert frame.people.body_scores[0, OPENPOSE18.index("neck")] == np.float32(0.85)
    np.testing.assert_array_equal(frame.people.feet[0, 2], [30.0, 40.0])


@pytest.mark.parametrize(
    "data, message",
    [
        ({"people": [{"pose_keypoints_2d": [1.0, 2.0]}], "canvas_height": 9, "canvas_width": 9},
         "triplets"),
        ({"people": [{"pose_keypoints_2d": [0.0] * 54}]}, "canvas"),
        ({"persons": []}, "people"),
        ({"people": [{"pose_keypoints_2d": [float("nan")] * 54}], "canvas_height": 9,
          "canvas_width": 9}, "finite"),
    ],
)  # fmt: skip
def test_bad_frames(data, message):
    with pytest.raises(ValueError, match=message):
        frame_from_dict(data)


def test_bad_files(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        read_openpose_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_openpose_json(tmp_path / "bad.json")

"""Pose map options, canvas sizing and bad input."""

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from tests.wholebody.controlnet.posegen import random_people
from wholebody.controlnet import (
    STYLES,
    PoseStyle,
    controlnet_size,
    draw_pose,
    from_coco_wholebody,
    pose_map,
    round_size,
)
from wholebody.controlnet.draw import FOOT_COLOURS
from wholebody.keypoints import COCO_WHOLEBODY, OPENPOSE18


def _standing(h=512, w=512):
    """One upright person, every point confident, inside a ``h x w`` canvas."""
    kp = np.zeros((1, 133, 2), np.float32)
    pos = {"nose": (0.5, 0.15), "left_eye": (0.52, 0.13), "right_eye": (0.48, 0.13),
           "left_ear": (0.55, 0.14), "right_ear": (0.45, 0.14), "left_shoulder": (0.6, 0.25),
           "right_shoulder": (0.4, 0.25), "left_elbow": (0.65, 0.38), "right_elbow": (0.35, 0.38),
           "left_wrist": (0.68, 0.5), "right_wrist": (0.32, 0.5), "left_hip": (0.56, 0.55),
           "right_hip": (0.44, 0.55), "left_knee": (0.57, 0.72), "right_knee": (0.43, 0.72),
           "left_ankle": (0.58, 0.88), "right_ankle": (0.42, 0.88),
           "left_big_toe": (0.62, 0.95), "left_small_toe": (0.6, 0.96), "left_heel": (0.57, 0.92),
           "right_big_toe": (0.38, 0.95), "right_small_toe": (0.4, 0.96),
           "right_heel": (0.43, 0.92)}  # fmt: skip
    for name, (x, y) in pos.items():
        kp[0, COCO_WHOLEBODY.index(name)] = (x * w, y * h)
    rng = np.random.default_rng(0)
    parts = COCO_WHOLEBODY.parts
    kp[0, parts["face"]] = kp[0, COCO_WHOLEBODY.index("nose")] + rng.normal(0, 8, (68, 2))
    for side in ("left", "right"):
        wrist = kp[0, COCO_WHOLEBODY.index(f"{side}_wrist")]
        kp[0, parts[f"{side}_hand"]] = wrist + rng.normal(0, 10, (21, 2))
    return kp, np.ones((1, 133), np.float32)


def _has_colour(img, rgb):
    return np.all(img == np.array(rgb, np.uint8), axis=-1)


def test_feet_option_draws_feet_in_body25_colours():
    kp, sc = _standing()
    plain = pose_map(kp, sc, (512, 512))
    feet = pose_map(kp, sc, (512, 512), style="feet")
    toe = kp[0, COCO_WHOLEBODY.index("left_big_toe")].astype(int)
    assert not _has_colour(plain, FOOT_COLOURS["left"])[toe[1], toe[0]]
    assert _has_colour(feet, FOOT_COLOURS["left"])[toe[1], toe[0]]  # joint dot at the toe
    assert _has_colour(feet, FOOT_COLOURS["right"]).sum() > 50
    # Everything else is unchanged away from the feet.
    top = slice(0, int(0.8 * 512))
    np.testing.assert_array_equal(plain[top], feet[top])


def test_xinsir_sticks_are_thicker_on_large_canvases():
    kp, sc = _standing(1024, 1024)
    limb = (0, 153, 0)  # neck-right hip after the 60 % dimming
    thin = _has_colour(pose_map(kp, sc, (1024, 1024)), limb).sum()
    thick = _has_colour(pose_map(kp, sc, (1024, 1024), style="xinsir"), limb).sum()
    assert 2.5 < thick / thin < 3.5  # minor axis 4 -> 12 at max side 1024
    assert PoseStyle(stick_width="xinsir").stick_for(499, 300) == 4
    assert PoseStyle(stick_width="xinsir").stick_for(512, 512) == 8
    assert PoseStyle(stick_width="xinsir").stick_for(20000, 10) == 28


def test_part_toggles_and_face70():
    kp, sc = _standing()
    full = pose_map(kp, sc, (512, 512))
    no_hands = pose_map(kp, sc, (512, 512), style=PoseStyle(hands=False))
    assert _has_colour(full, (0, 0, 255)).sum() > _has_colour(no_hands, (0, 0, 255)).sum()
    body_only = pose_map(kp, sc, (512, 512), style="body")
    assert not _has_colour(body_only, (255, 255, 255)).any()
    nothing = pose_map(kp, sc, (512, 512), style=PoseStyle(body=False, hands=False, face=False))
    assert not nothing.any()
    face70 = pose_map(kp, sc, (512, 512), style="face70")
    # The two extra points are white r=3 dots over the body eyes; nothing else changes.
    ys, xs = np.nonzero(np.any(face70 != full, axis=-1))
    assert xs.size > 0 and np.all(face70[ys, xs] == 255)
    eyes = kp[0, [COCO_WHOLEBODY.index("right_eye"), COCO_WHOLEBODY.index("left_eye")]]
    dist = np.hypot(xs[:, None] - eyes[:, 0].astype(int), ys[:, None] - eyes[:, 1].astype(int))
    assert dist.min(axis=1).max() <= 3
    with pytest.raises(ValueError, match="face_points"):
        PoseStyle(face_points=69)
    with pytest.raises(ValueError, match="unknown pose style"):
        pose_map(kp, sc, (512, 512), style="nope")


def test_neck_rule_and_thresholds():
    kp, sc = _standing()
    people = from_coco_wholebody(kp, sc)
    neck = OPENPOSE18.index("neck")
    mid = (
        kp[0, COCO_WHOLEBODY.index("left_shoulder")] + kp[0, COCO_WHOLEBODY.index("right_shoulder")]
    ) / 2  # noqa: E501
    np.testing.assert_allclose(people.body[0, neck], mid)
    assert people.body_scores[0, neck] == 1.0
    sc2 = sc.copy()
    sc2[0, COCO_WHOLEBODY.index("left_shoulder")] = 0.3  # not > 0.3: neck score 0
    assert from_coco_wholebody(kp, sc2).body_scores[0, neck] == 0.0


def test_canvas_sizes():
    assert controlnet_size(512, 512, 512) == (512, 512)
    assert controlnet_size(480, 640, 512) == (512, 704)  # 682.7 -> 704
    assert controlnet_size(720, 1280, 512) == (512, 896)  # 910.2 -> 896
    assert controlnet_size(1080, 1920, 768) == (768, 1344)  # 1365.3 -> 1344
    assert round_size(1001, 333) == (1000, 336)
    kp, sc = _standing(300, 200)
    assert pose_map(kp, sc, (300, 200)).shape == (300, 200, 3)
    assert pose_map(kp, sc, (300, 200), detect_resolution=512).shape == (768, 512, 3)
    m = pose_map(kp, sc, (300, 200), detect_resolution=512, image_resolution=256)
    assert m.shape == (384, 256, 3)


def test_bad_input_gives_defined_maps_or_errors():
    rng = np.random.default_rng(3)
    kp, sc = random_people(rng, 2, 256, 256)
    # NaN coordinates = missing: same map as a zero score there.
    nan_kp, zero_sc = kp.copy(), sc.copy()
    nan_kp[0, :40] = np.nan
    zero_sc[0, :40] = 0.0
    np.testing.assert_array_equal(
        pose_map(nan_kp, sc, (256, 256)), pose_map(kp, zero_sc, (256, 256))
    )
    # Far outside the canvas: clipped drawing; absurd magnitudes: missing.
    out = kp * 10 - 1000
    assert pose_map(out, sc, (256, 256)).shape == (256, 256, 3)
    huge = kp.copy()
    huge[1] = 1e12
    only0 = sc.copy()
    only0[1] = 0
    np.testing.assert_array_equal(pose_map(huge, sc, (256, 256)), pose_map(kp, only0, (256, 256)))
    # Zero people: black map.
    assert not pose_map(np.zeros((0, 133, 2)), np.zeros((0, 133)), (64, 96)).any()
    # Wrong shapes and values: clear errors.
    with pytest.raises(ValueError, match="133"):
        pose_map(kp[:, :17], sc[:, :17], (256, 256))
    with pytest.raises(ValueError, match="last dimension"):
        pose_map(np.zeros((1, 133, 3)), sc[:1], (256, 256))
    with pytest.raises(ValueError, match="scores"):
        pose_map(kp, sc[:, :100], (256, 256))
    bad = sc.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        pose_map(kp, bad, (256, 256))
    with pytest.raises(ValueError, match="positive"):
        pose_map(kp, sc, (0, 256))
    with pytest.raises(ValueError, match=r"\(N, 133, 2\)"):
        pose_map(kp[0], sc[0], (256, 256))
    with pytest.raises(ValueError, match="canvas"):
        draw_pose(from_coco_wholebody(kp, sc), 10.5, 10)
    with pytest.raises(ValueError, match="stick_width"):
        replace(PoseStyle(), stick_width=0)


def test_controlnet_package_never_imports_torch():
    code = "import sys, wholebody.controlnet; sys.exit(3 if 'torch' in sys.modules else 0)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_person_order_style():
    """sd-webui / comfy order: one person = controlnet_aux's map; with two, a later person's
    limb covers an earlier person's joint (controlnet_aux keeps every joint on top)."""
    rng = np.random.default_rng(9)
    one = PoseStyle(order="person")
    for _ in range(5):
        kp, sc = random_people(rng, 1, 256, 320)
        sc[sc == np.float32(0.3)] = 0.31  # the two orders differ only at score == 0.3
        np.testing.assert_array_equal(pose_map(kp, sc, (256, 320), style=one),
                                      pose_map(kp, sc, (256, 320)))  # fmt: skip
    kp1, sc1 = _standing()
    kp2 = kp1.copy()
    nose = kp1[0, COCO_WHOLEBODY.index("nose")]
    kp2[0] += nose - kp2[0, COCO_WHOLEBODY.index("left_hip")]  # person 2's hip on 1's nose
    kp2[0, COCO_WHOLEBODY.index("left_knee")] = nose + [0, 60]
    kp, sc = np.concatenate([kp1, kp2]), np.concatenate([sc1, sc1])
    x, y = nose.astype(int)
    part = pose_map(kp, sc, (512, 512), style=PoseStyle(face=False))
    person = pose_map(kp, sc, (512, 512), style=PoseStyle(order="person", face=False))
    assert tuple(part[y, x + 2]) == (0, 85, 255)  # joints last: person 2's left hip on top
    assert tuple(part[y + 6, x]) == (0, 0, 153)  # limb 12 (neck-nose) after limb 10
    assert tuple(person[y + 6, x]) == (0, 102, 153)  # person 2's dimmed hip-knee limb on top
    assert "sdwebui" in STYLES and STYLES["sdwebui"].face_points == 70

import json

import numpy as np
import pytest

from wholebody.codecs.simcc import decode_simcc
from wholebody.crop import warp_from_crop
from wholebody.data.coco_wholebody import CocoWholeBodyDataset, parse_annotations
from wholebody.data.synthetic import _colour, make_synthetic_dataset
from wholebody.data.transforms import (
    NO_AUGMENT,
    AugmentConfig,
    colour_jitter,
    flip_keypoints_horizontal,
    half_body_box,
    random_box_transform,
)
from wholebody.keypoints import COCO_WHOLEBODY
from wholebody.media import read_image

W = COCO_WHOLEBODY


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    path = make_synthetic_dataset(root, num_images=3, seed=5, image_size=(160, 160))
    return path, json.loads(path.read_text())


def test_parse_places_parts_by_name(synth):
    path, data = synth
    people = parse_annotations(path)
    assert len(people) == len(data["annotations"])
    ann, inst = data["annotations"][0], people[0]
    assert inst.keypoints.shape == (133, 3)
    np.testing.assert_allclose(inst.keypoints[W.index("left_hand_root")], ann["lefthand_kpts"][:3])
    np.testing.assert_allclose(inst.keypoints[W.index("face-0")], ann["face_kpts"][:3])
    np.testing.assert_allclose(inst.keypoints[W.index("right_heel")], ann["foot_kpts"][15:18])
    x, y, w, h = ann["bbox"]
    np.testing.assert_allclose(inst.box, [x, y, x + w, y + h])


def test_synthetic_images_show_keypoints(synth):
    path, data = synth
    ann = data["annotations"][0]
    img = read_image(path.parent / "images" / data["images"][0]["file_name"])
    j = W.index("left_knee")
    x, y = ann["keypoints"][3 * j : 3 * j + 2]
    assert tuple(img[int(round(y)), int(round(x))]) == _colour(j)
    assert ann["num_keypoints"] == sum(v > 0 for v in ann["keypoints"][2::3])


def test_validity_flags_and_bad_annotations(synth):
    _, data = synth
    data = json.loads(json.dumps(data))
    data["annotations"][0]["face_valid"] = False
    face = W.part("face")
    assert (parse_annotations(data)[0].keypoints[face] == 0).all()
    bad = json.loads(json.dumps(data))
    del bad["annotations"][0]["lefthand_kpts"]
    with pytest.raises(ValueError, match="'lefthand_kpts' expected 63 numbers, got missing"):
        parse_annotations(bad)
    bad = json.loads(json.dumps(data))
    bad["annotations"][0]["bbox"] = [10, 10, 0, 20]
    with pytest.raises(ValueError, match="zero-area box"):
        parse_annotations(bad)
    assert len(parse_annotations(bad, on_invalid="skip")) == len(data["annotations"]) - 1
    bad["annotations"][0]["bbox"] = [10, 10, 5, float("nan")]
    with pytest.raises(ValueError, match="non-finite"):
        parse_annotations(bad)
    bad = json.loads(json.dumps(data))
    bad["annotations"][0]["image_id"] = 999
    with pytest.raises(ValueError, match="image_id 999 not in 'images'"):
        parse_annotations(bad)
    with pytest.raises(ValueError, match="missing list 'annotations'"):
        parse_annotations({"images": []})


def test_malformed_and_missing_files(tmp_path):
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_annotations(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="not found"):
        parse_annotations(tmp_path / "missing.json")


def test_flip_is_an_involution_and_swaps_pairs():
    rng = np.random.default_rng(0)
    kp = np.concatenate([rng.uniform(0, 100, (2, 133, 2)), rng.integers(0, 3, (2, 133, 1))], -1)
    once = flip_keypoints_horizontal(kp, 100)
    np.testing.assert_allclose(flip_keypoints_horizontal(once, 100), kp)
    lw, rw = W.index("left_wrist"), W.index("right_wrist")
    if kp[0, rw, 2] > 0:
        assert once[0, lw, 0] == pytest.approx(99 - kp[0, rw, 0])
    assert once[0, lw, 1] == kp[0, rw, 1]
    f0, f16 = W.index("face-0"), W.index("face-16")
    np.testing.assert_allclose(once[:, f0, 1:], kp[:, f16, 1:])
    with pytest.raises(ValueError, match="expected 133 keypoints"):
        flip_keypoints_horizontal(kp[:, :17], 100)


def test_augmentation_helpers():
    rng = np.random.default_rng(1)
    cfg = AugmentConfig()
    for _ in range(50):
        s, r, sh = random_box_transform(rng, cfg)
        assert 0.6 <= s <= 1.4 and abs(r) <= 80 and np.all(np.abs(sh) <= 0.16)
    kp = np.zeros((133, 3))
    kp[W.part("body"), :2] = rng.uniform(0, 100, (17, 2))
    kp[W.part("body"), 2] = 2
    center, scale = half_body_box(kp, rng, 0.75, cfg)
    assert scale[0] / scale[1] == pytest.approx(0.75)
    assert half_body_box(np.zeros((133, 3)), rng, 0.75, cfg) is None
    img = rng.uniform(0, 255, (8, 8, 3)).astype(np.float32)
    out = colour_jitter(img, rng, cfg)
    assert out.shape == img.shape and out.min() >= 0 and out.max() <= 255


def test_sample_targets_round_trip_to_image(synth):
    path, _ = synth
    ds = CocoWholeBodyDataset(
        path, path.parent / "images", (96, 128), (2.45, 2.83), augment=NO_AUGMENT
    )
    item = ds[0]
    assert item["image"].shape == (3, 128, 96) and item["image"].dtype == np.float32
    assert item["target_x"].shape == (133, 192) and item["target_y"].shape == (133, 256)
    xy, _ = decode_simcc(item["target_x"][None], item["target_y"][None])
    back = warp_from_crop(xy, item["center"][None], item["scale"][None], (96, 128))[0]
    kp = ds.instances[0].keypoints
    ok = (item["weights"] > 0) & (kp[:, 2] > 0)
    assert ok.sum() > 100
    pix = item["scale"][1] / 128  # image pixels per crop pixel
    assert np.abs(back[ok] - kp[ok, :2]).max() <= 0.5 * pix + 1e-6


def test_dataset_flip_mirrors_crop_and_targets(synth):
    path, _ = synth
    args = (path, path.parent / "images", (96, 128), (2.45, 2.83))
    plain = CocoWholeBodyDataset(*args, augment=NO_AUGMENT)[1]
    flipped = CocoWholeBodyDataset(*args, augment=AugmentConfig(
        flip_prob=1.0, half_body_prob=0, scale_range=(1, 1), rotate_prob=0, shift_prob=0,
        colour_prob=0))[1]  # fmt: skip
    np.testing.assert_allclose(flipped["image"], plain["image"][:, :, ::-1], atol=1e-5)
    lw, rw = W.index("left_wrist"), W.index("right_wrist")
    if plain["weights"][rw] > 0:
        x_plain = np.argmax(plain["target_x"][rw]) / 2
        x_flip = np.argmax(flipped["target_x"][lw]) / 2
        assert abs(x_flip - (95 - x_plain)) <= 1.0


def test_augmented_targets_map_back_through_the_inverse_warp(synth):
    from wholebody.crop import get_warp_matrix, transform_points

    path, _ = synth
    aug = AugmentConfig(flip_prob=0.0, half_body_prob=0.0, rotate_prob=1.0, shift_prob=1.0,
                        colour_prob=0.0)  # fmt: skip
    ds = CocoWholeBodyDataset(path, path.parent / "images", (96, 128), (2.45, 2.83), augment=aug)
    for epoch in range(3):
        ds.set_epoch(epoch)
        item = ds[0]
        assert item["rot"] != 0.0
        xy, _ = decode_simcc(item["target_x"][None], item["target_y"][None])
        inv = get_warp_matrix(item["center"][None], item["scale"][None], (96, 128), item["rot"],
                              inv=True)  # fmt: skip
        back = transform_points(xy, inv)[0]
        kp = ds.instances[0].keypoints
        fwd = get_warp_matrix(item["center"][None], item["scale"][None], (96, 128), item["rot"])
        in_crop = transform_points(kp[None, :, :2], fwd)[0]
        inside = np.all((in_crop >= 0) & (in_crop <= [95, 127]), axis=1)  # argmax can't leave
        ok = (item["weights"] > 0) & (kp[:, 2] > 0) & inside
        assert ok.sum() > 20
        pix = item["scale"][0] / 96
        assert np.abs(back[ok] - kp[ok, :2]).max() <= 0.75 * pix
    # the same (epoch, index) gives the same sample: augmentation is reproducible
    np.testing.assert_array_equal(ds[0]["image"], item["image"])

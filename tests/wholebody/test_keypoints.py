"""Keypoint sets: reference constants, flip invariants, conversions by name, bad input."""

import numpy as np
import pytest

from wholebody.keypoints import (
    BODY25,
    COCO,
    COCO_WHOLEBODY,
    H36M,
    KEYPOINT_SETS,
    OPENPOSE18,
    SMPLX,
    convert_keypoints,
    flip_keypoints,
    get_keypoint_set,
)

# fmt: off
# Verbatim from shared/reference/wholebody2d.md §2.2 and §2.4 (MMPose coco_wholebody.py).
REF_FLIP_PAIRS = (
    [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16], [17, 20], [18, 21], [19,
    22], [23, 39], [24, 38], [25, 37], [26, 36], [27, 35], [28, 34], [29, 33], [30, 32], [40, 49],
    [41, 48], [42, 47], [43, 46], [44, 45], [54, 58], [55, 57], [59, 68], [60, 67], [61, 66], [62,
    65], [63, 70], [64, 69], [71, 77], [72, 76], [73, 75], [78, 82], [79, 81], [83, 87], [84, 86],
    [88, 90], [91, 112], [92, 113], [93, 114], [94, 115], [95, 116], [96, 117], [97, 118], [98,
    119], [99, 120], [100, 121], [101, 122], [102, 123], [103, 124], [104, 125], [105, 126], [106,
    127], [107, 128], [108, 129], [109, 130], [110, 131], [111, 132]]
)
REF_FLIP_INDICES = (
    [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 20, 21, 22, 17, 18, 19, 39, 38, 37,
    36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40,
    50, 51, 52, 53, 58, 57, 56, 55, 54, 68, 67, 66, 65, 70, 69, 62, 61, 60, 59, 64, 63, 77, 76, 75,
    74, 73, 72, 71, 82, 81, 80, 79, 78, 87, 86, 85, 84, 83, 90, 89, 88, 112, 113, 114, 115, 116,
    117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 91, 92, 93, 94,
    95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111]
)
REF_LINKS = (
    [[15, 13], [13, 11], [16, 14], [14, 12], [11, 12], [5, 11], [6, 12], [5, 6], [5, 7], [6, 8], [7,
    9], [8, 10], [1, 2], [0, 1], [0, 2], [1, 3], [2, 4], [3, 5], [4, 6], [15, 17], [15, 18], [15,
    19], [16, 20], [16, 21], [16, 22], [91, 92], [92, 93], [93, 94], [94, 95], [91, 96], [96, 97],
    [97, 98], [98, 99], [91, 100], [100, 101], [101, 102], [102, 103], [91, 104], [104, 105], [105,
    106], [106, 107], [91, 108], [108, 109], [109, 110], [110, 111], [112, 113], [113, 114], [114,
    115], [115, 116], [112, 117], [117, 118], [118, 119], [119, 120], [112, 121], [121, 122], [122,
    123], [123, 124], [112, 125], [125, 126], [126, 127], [127, 128], [112, 129], [129, 130], [130,
    131], [131, 132]]
)
REF_BODY = (
    [0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107,
    0.087, 0.087, 0.089, 0.089]
)
REF_FOOT = [0.068, 0.066, 0.066, 0.092, 0.094, 0.094]
REF_FACE = (
    [0.042, 0.043, 0.044, 0.043, 0.04, 0.035, 0.031, 0.025, 0.02, 0.023, 0.029, 0.032, 0.037, 0.038,
    0.043, 0.041, 0.045, 0.013, 0.012, 0.011, 0.011, 0.012, 0.012, 0.011, 0.011, 0.013, 0.015,
    0.009, 0.007, 0.007, 0.007, 0.012, 0.009, 0.008, 0.016, 0.01, 0.017, 0.011, 0.009, 0.011, 0.009,
    0.007, 0.013, 0.008, 0.011, 0.012, 0.01, 0.034, 0.008, 0.008, 0.009, 0.008, 0.008, 0.007, 0.01,
    0.008, 0.009, 0.009, 0.009, 0.007, 0.007, 0.008, 0.011, 0.008, 0.008, 0.008, 0.01, 0.008]
)
REF_HAND = (
    [0.029, 0.022, 0.035, 0.037, 0.047, 0.026, 0.025, 0.024, 0.035, 0.018, 0.024, 0.022, 0.026,
    0.017, 0.021, 0.021, 0.032, 0.02, 0.019, 0.022, 0.031]
)
# shared/reference/body_models_export.md §1.3 and lifting3d.md §2.2.
REF_SMPLX_PARENTS = (
    [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15, 20, 25,
    26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38, 21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49,
    50, 21, 52, 53]
)
REF_H36M_PARENTS = [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15]
# controlnet_eval.md §1.2: OP18 index -> COCO-WB index (neck synthesized).
REF_OP18_FROM_COCO = (
    {0: 0, 2: 6, 3: 8, 4: 10, 5: 5, 6: 7, 7: 9, 8: 12, 9: 14, 10: 16, 11: 11, 12: 13, 13: 15, 14: 2,
    15: 1, 16: 4, 17: 3}
)
# controlnet_eval.md §2.3: BODY_25 from COCO-WB (8 = mid-hip, 1 = neck synthesized).
REF_BODY25_FROM_COCO = (
    {0: 0, 2: 6, 3: 8, 4: 10, 5: 5, 6: 7, 7: 9, 9: 12, 10: 14, 11: 16, 12: 11, 13: 13, 14: 15, 15:
    2, 16: 1, 17: 4, 18: 3, 19: 17, 20: 18, 21: 19, 22: 20, 23: 21, 24: 22}
)
# fmt: on


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_registry_names_unique_and_sizes():
    sizes = {"coco": 17, "coco_wholebody": 133, "h36m": 17, "openpose18": 18, "body25": 25,
             "smplx": 55}  # fmt: skip
    assert {k: len(v) for k, v in KEYPOINT_SETS.items()} == sizes
    for kset in KEYPOINT_SETS.values():
        assert len(set(kset.names)) == len(kset.names)


def test_coco_wholebody_matches_reference():
    assert [list(p) for p in COCO_WHOLEBODY.flip_pairs] == REF_FLIP_PAIRS
    assert COCO_WHOLEBODY.flip_indices.tolist() == REF_FLIP_INDICES
    assert [list(link) for link in COCO_WHOLEBODY.links] == REF_LINKS
    ref = np.array(REF_BODY + REF_FOOT + REF_FACE + REF_HAND + REF_HAND)
    assert np.array_equal(COCO_WHOLEBODY.sigmas, ref)
    assert np.array_equal(COCO.sigmas, np.array(REF_BODY))
    parts = COCO_WHOLEBODY.parts
    expected = {"body": range(0, 17), "foot": range(17, 23), "face": range(23, 91),
                "left_hand": range(91, 112), "right_hand": range(112, 133)}  # fmt: skip
    assert {k: v.tolist() for k, v in parts.items()} == {k: list(r) for k, r in expected.items()}


def test_parents_match_reference():
    assert list(SMPLX.parents) == REF_SMPLX_PARENTS
    assert list(H36M.parents) == REF_H36M_PARENTS
    for kset in (SMPLX, H36M):  # parents precede children: forward kinematics in one pass
        assert all(p < i for i, p in enumerate(kset.parents))


@pytest.mark.parametrize("name", sorted(KEYPOINT_SETS))
def test_flip_is_involution(name, rng):
    kset = KEYPOINT_SETS[name]
    perm = kset.flip_indices
    assert np.array_equal(perm[perm], np.arange(len(kset)))
    for a, b in kset.flip_pairs:  # every pair maps a name to its mirror (or explicit face pair)
        assert perm[a] == b and perm[b] == a
    kp2 = rng.uniform(0, 640, size=(3, 4, len(kset), 2))
    scores = rng.uniform(size=(3, 4, len(kset)))
    once, s_once = flip_keypoints(kp2, kset, scores, image_width=640)
    twice, s_twice = flip_keypoints(once, kset, s_once, image_width=640)
    np.testing.assert_allclose(twice, kp2, atol=1e-12)
    np.testing.assert_array_equal(s_twice, scores)
    kp3 = rng.normal(size=(5, len(kset), 3))
    np.testing.assert_allclose(flip_keypoints(flip_keypoints(kp3, kset), kset), kp3)


def test_flip_pixels_and_names():
    kp = np.zeros((133, 2))
    kp[COCO_WHOLEBODY.index("left_wrist")] = [10.0, 20.0]
    out = flip_keypoints(kp, COCO_WHOLEBODY, image_width=100)
    np.testing.assert_allclose(out[COCO_WHOLEBODY.index("right_wrist")], [89.0, 20.0])


def test_synthesized_points_equal_definitions(rng):
    kp = rng.uniform(0, 500, size=(2, 133, 2))
    sc = rng.uniform(size=(2, 133))
    idx = COCO_WHOLEBODY.index
    mid = lambda a, b: 0.5 * (kp[:, idx(a)] + kp[:, idx(b)])  # noqa: E731
    h36m, h_sc = convert_keypoints(kp, sc, COCO_WHOLEBODY, H36M)
    pelvis, thorax = mid("left_hip", "right_hip"), mid("left_shoulder", "right_shoulder")
    np.testing.assert_allclose(h36m[:, H36M.index("pelvis")], pelvis)
    np.testing.assert_allclose(h36m[:, H36M.index("thorax")], thorax)
    np.testing.assert_allclose(h36m[:, H36M.index("spine")], 0.5 * (pelvis + thorax))
    np.testing.assert_allclose(h36m[:, H36M.index("head")], mid("left_eye", "right_eye"))
    np.testing.assert_allclose(h36m[:, H36M.index("nose")], kp[:, idx("nose")])
    np.testing.assert_allclose(
        h_sc[:, H36M.index("pelvis")], np.minimum(sc[:, idx("left_hip")], sc[:, idx("right_hip")])
    )
    spine_sc = np.min(
        sc[:, COCO_WHOLEBODY.indices(["left_hip", "right_hip", "left_shoulder", "right_shoulder"])],
        1,
    )
    np.testing.assert_allclose(h_sc[:, H36M.index("spine")], spine_sc)

    op, op_sc = convert_keypoints(kp, sc, COCO_WHOLEBODY, OPENPOSE18)
    np.testing.assert_allclose(op[:, 1], mid("left_shoulder", "right_shoulder"))
    both = (sc[:, idx("left_shoulder")] > 0.3) & (sc[:, idx("right_shoulder")] > 0.3)
    np.testing.assert_array_equal(op_sc[:, 1], both.astype(float))
    for o, c in REF_OP18_FROM_COCO.items():
        np.testing.assert_array_equal(op[:, o], kp[:, c])

    b25, _ = convert_keypoints(kp, sc, COCO_WHOLEBODY, BODY25)
    np.testing.assert_allclose(b25[:, BODY25.index("mid_hip")], pelvis)
    for o, c in REF_BODY25_FROM_COCO.items():
        np.testing.assert_array_equal(b25[:, o], kp[:, c])


def test_neck_rule_thresholds():
    kp = np.zeros((133, 2))
    sc = np.ones(133)
    sc[COCO_WHOLEBODY.index("left_shoulder")] = 0.3  # not > 0.3
    _, op_sc = convert_keypoints(kp, sc, COCO_WHOLEBODY, OPENPOSE18)
    assert op_sc[OPENPOSE18.index("neck")] == 0.0


def test_missing_points_modes(rng):
    kp = rng.normal(size=(17, 3))
    out, sc = convert_keypoints(kp, None, H36M, COCO_WHOLEBODY)
    face = COCO_WHOLEBODY.part("face")
    assert np.all(sc[face] == 0) and np.all(out[face] == 0)
    assert sc[COCO_WHOLEBODY.index("left_wrist")] == 1.0
    out_nan, _ = convert_keypoints(kp, None, H36M, COCO_WHOLEBODY, missing="nan")
    assert np.isnan(out_nan[face]).all()
    with pytest.raises(ValueError, match="cannot make"):
        convert_keypoints(kp, None, H36M, COCO_WHOLEBODY, missing="raise")


def test_bad_input_errors():
    with pytest.raises(ValueError, match="expected J=133"):
        convert_keypoints(np.zeros((2, 17, 2)), None, COCO_WHOLEBODY, H36M)
    with pytest.raises(ValueError, match="last dimension"):
        convert_keypoints(np.zeros((133, 4)), None, COCO_WHOLEBODY, H36M)
    bad = np.zeros((133, 2))
    bad[5, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        convert_keypoints(bad, None, COCO_WHOLEBODY, H36M)
    with pytest.raises(ValueError, match="expected shape"):
        convert_keypoints(np.zeros((133, 2)), np.zeros(17), COCO_WHOLEBODY, H36M)
    with pytest.raises(ValueError, match="unknown keypoint set 'coco18'"):
        get_keypoint_set("coco18")
    with pytest.raises(ValueError, match="has no keypoint"):
        COCO.index("neck")
    with pytest.raises(ValueError, match="unknown part"):
        H36M.part("face")

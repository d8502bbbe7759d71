import json

import numpy as np
import pytest

from wholebody.evaluation.results_io import (
    PART_FIELDS,
    arrays_from_records,
    read_results,
    records_from_arrays,
    write_results,
)
from wholebody.keypoints import COCO_WHOLEBODY


def _arrays(n=3, seed=0):
    rng = np.random.default_rng(seed)
    return (
        np.arange(n) + 10,
        rng.uniform(0, 500, (n, 133, 2)),
        rng.uniform(0, 1, (n, 133)),
        rng.uniform(0, 1, n),
    )


def test_round_trip_through_file(tmp_path):
    ids, kpts, sc, ps = _arrays()
    path = write_results(tmp_path / "res.json", records_from_arrays(ids, kpts, sc, ps))
    back = arrays_from_records(read_results(path))
    np.testing.assert_array_equal(back["image_ids"], ids)
    np.testing.assert_allclose(back["keypoints"], kpts)
    np.testing.assert_allclose(back["scores"], sc)
    np.testing.assert_allclose(back["person_scores"], ps)


def test_part_fields_follow_parts_by_name(tmp_path):
    ids, kpts, sc, ps = _arrays(1)
    rec = records_from_arrays(ids, kpts, sc, ps)[0]
    lens = {f: len(rec[f]) for f in PART_FIELDS.values()}
    assert lens == {
        "keypoints": 51,
        "foot_kpts": 18,
        "face_kpts": 204,
        "lefthand_kpts": 63,
        "righthand_kpts": 63,
    }
    j = COCO_WHOLEBODY.index("left_hand_root")
    k = list(COCO_WHOLEBODY.part("left_hand")).index(j)
    assert rec["lefthand_kpts"][3 * k : 3 * k + 3] == pytest.approx([*kpts[0, j], sc[0, j]])


def test_bad_inputs(tmp_path):
    ids, kpts, sc, ps = _arrays(2)
    with pytest.raises(ValueError, match="expected keypoints"):
        records_from_arrays(ids, kpts[:, :17], sc, ps)
    kpts[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        records_from_arrays(ids, kpts, sc, ps)
    with pytest.raises(ValueError, match="not found"):
        read_results(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_results(tmp_path / "bad.json")
    (tmp_path / "short.json").write_text(json.dumps([{"image_id": 1, "score": 1.0}]))
    with pytest.raises(ValueError, match="missing part field 'keypoints'"):
        read_results(tmp_path / "short.json")

"""COCO-WholeBody evaluation: results IO, OKS, the per-part evaluator and rescoring (numpy only)."""

from wholebody.evaluation.cocoeval_wholebody import (
    PARTS,
    STAT_NAMES,
    evaluate_part,
    evaluate_wholebody,
    format_table,
)
from wholebody.evaluation.oks import oks_matrix, oks_pairs
from wholebody.evaluation.rescore import (
    keypoint_areas,
    oks_nms,
    rescore_and_nms,
    rescore_bbox_keypoint,
)
from wholebody.evaluation.results_io import (
    PART_FIELDS,
    arrays_from_records,
    read_results,
    record_from_arrays,
    records_from_arrays,
    write_results,
)

__all__ = [
    "PARTS",
    "PART_FIELDS",
    "STAT_NAMES",
    "arrays_from_records",
    "evaluate_part",
    "evaluate_wholebody",
    "format_table",
    "keypoint_areas",
    "oks_matrix",
    "oks_nms",
    "oks_pairs",
    "read_results",
    "record_from_arrays",
    "records_from_arrays",
    "rescore_and_nms",
    "rescore_bbox_keypoint",
    "write_results",
]

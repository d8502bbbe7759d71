"""COCO-WholeBody evaluation: results IO, OKS, the per-part evaluator and rescoring (numpy only)."""

from wholebody.evaluation.results_io import (
    PART_FIELDS,
    arrays_from_records,
    read_results,
    record_from_arrays,
    records_from_arrays,
    write_results,
)

__all__ = [
    "PART_FIELDS",
    "arrays_from_records",
    "read_results",
    "record_from_arrays",
    "records_from_arrays",
    "write_results",
]

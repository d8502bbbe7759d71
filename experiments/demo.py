"""End-to-end demo (grows with the pipeline). Today: the keypoint sets every stage speaks."""

from __future__ import annotations

import sys

from experiments import keypoint_sets


def main(argv: list[str] | None = None) -> int:
    return keypoint_sets.main([] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())

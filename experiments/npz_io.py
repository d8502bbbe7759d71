"""Reading and writing the npz files that experiment scripts exchange, with clear errors."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np


def load_npz(path, required: tuple[str, ...] = (), allow_pickle: bool = False) -> dict:
    """Load every array of an npz into a dict; ValueError for missing/corrupt files or keys."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"npz file not found: {path}")
    try:
        with np.load(path, allow_pickle=allow_pickle) as npz:
            data = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise ValueError(f"cannot read npz file {path}: {err}") from err
    missing = [k for k in required if k not in data]
    if missing:
        raise ValueError(f"{path}: missing arrays {missing}, found {sorted(data)}")
    return data


def save_npz_atomic(path, arrays: dict, compressed: bool = True) -> None:
    """Write an npz via a temporary file and rename, so a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.npz")
    (np.savez_compressed if compressed else np.savez)(tmp, **arrays)
    os.replace(tmp, path)

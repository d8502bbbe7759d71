"""Read ``torch.save`` zip archives (``.bin``/``.pth``/``.pt``) as numpy, without importing torch.

A zip checkpoint holds ``<root>/data.pkl`` (a pickle whose tensors are persistent ids pointing
at storages) and one raw little-endian file per storage in ``<root>/data/<key>``. A restricted
unpickler allows only the handful of globals a state dict needs and rebuilds every tensor as a
numpy array from its storage, offset, size and stride.
"""

from __future__ import annotations

import collections
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["read_torch_checkpoint"]

# torch storage class name -> numpy dtype (bfloat16 is widened to float32 on read)
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "BFloat16Storage": "bfloat16",
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _StorageType:
    """Stand-in for ``torch.<X>Storage`` classes referenced by persistent ids."""

    def __init__(self, name: str):
        self.name = name


def _rebuild_tensor(storage, offset, size, stride, *_unused) -> np.ndarray:
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if not size:
        return np.array(storage[offset])
    needed = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
    if min(size) > 0 and needed > storage.size:
        raise ValueError(
            f"malformed torch checkpoint: tensor of size {size} stride {stride} offset {offset} "
            f"needs {needed} elements, storage has {storage.size}"
        )
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=size, strides=tuple(s * storage.itemsize for s in stride)
    )
    return np.array(view)  # own the memory


def _rebuild_parameter(data, *_unused) -> np.ndarray:
    return data


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, archive: zipfile.ZipFile, root: str):
        super().__init__(file)
        self._archive, self._root = archive, root
        self._storages: dict[str, np.ndarray] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch._utils" and name in ("_rebuild_parameter", "_rebuild_parameter_v2"):
            return _rebuild_parameter
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise ValueError(
            f"torch checkpoint references {module}.{name}, which a weights-only reader does not "
            "allow (expected only tensors, dicts and numbers)"
        )

    def persistent_load(self, pid) -> np.ndarray:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise ValueError(f"malformed torch checkpoint: unexpected persistent id {pid!r}")
        _, storage_type, key, _location, numel = pid
        if not isinstance(storage_type, _StorageType):
            raise ValueError(f"malformed torch checkpoint: storage type {storage_type!r}")
        if key not in self._storages:
            try:
                raw = self._archive.read(f"{self._root}data/{key}")
            except KeyError:
                raise ValueError(
                    f"malformed torch checkpoint: storage {self._root}data/{key} is missing"
                ) from None
            dtype = _STORAGE_DTYPES[storage_type.name]
            if dtype == "bfloat16":
                bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
                array = bits.view(np.float32)
            else:
                array = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))
            if array.size < int(numel):
                raise ValueError(
                    f"malformed torch checkpoint: storage {key} has {array.size} elements, "
                    f"expected {numel}"
                )
            self._storages[key] = array
        return self._storages[key]


def read_torch_checkpoint(path: str | Path) -> Any:
    """Load a ``torch.save`` zip file (torch >= 1.6 format) with tensors as numpy arrays.

    Raises:
        ValueError: missing file, legacy (non-zip) format, big-endian data, disallowed globals
            or inconsistent storages.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"torch checkpoint not found: {path}")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is not a torch zip checkpoint (torch >= 1.6 format); legacy pickles are not "
            "supported: re-save it with a recent torch"
        )
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pickles) != 1:
            raise ValueError(
                f"malformed torch checkpoint {path}: expected one data.pkl, got {pickles}"
            )
        root = pickles[0][: -len("data.pkl")]  # "archive/" or ""
        byteorder = f"{root}byteorder"
        if byteorder in archive.namelist() and archive.read(byteorder).strip() != b"little":
            raise ValueError(f"{path}: big-endian torch checkpoints are not supported")
        with archive.open(pickles[0]) as handle:
            try:
                return _RestrictedUnpickler(handle, archive, root).load()
            except (pickle.UnpicklingError, EOFError, AttributeError, TypeError) as err:
                raise ValueError(f"malformed torch checkpoint {path}: {err}") from err

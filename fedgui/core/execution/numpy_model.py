"""Is a file a model FEDn's numpy helper can use? (``.npz`` of numeric arrays, all finite.)

FEDn's default helper (``numpyhelper``) loads the update with ``np.load`` and averages it into the
global model: "not a model" fails on the server, and a single NaN spreads into every client's next
global model. The check reads one zip member at a time, in chunks, so memory does not grow with
the model's size (the design's rule: models never sit in memory whole).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO

import numpy as np
from numpy.lib import format as npy_format

#: Bytes read per chunk when scanning an array for NaN and infinity. 1 MiB, not more: glibc
#: hands a freed chunk of many MiB back to the system and page-faults it in again for the next
#: one (3x slower for a 1 GB model with one malloc arena, see core/memory_tuning.py), and each
#: thread's arena kept ~33 MB after a check with 16 MiB chunks.
CHUNK_BYTES = 1024 * 1024

NUMPY_HELPERS = frozenset({"numpyhelper", "numpyarrayhelper"})


class NotANumpyModel(ValueError):
    """Says, in words for a package author, what is wrong with the file."""


def check_numpy_model(path: Path) -> None:
    """Raise NotANumpyModel unless ``path`` is an ``.npz`` whose arrays are numeric and finite."""
    if not zipfile.is_zipfile(path):
        raise NotANumpyModel(
            "it is not a numpy .npz file (save the model with np.savez or np.savez_compressed)"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if info.filename.endswith(".npy")]
            if not members:
                raise NotANumpyModel("the .npz file holds no arrays")
            for info in members:
                with archive.open(info) as stream:
                    _check_array(info.filename[: -len(".npy")], stream)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise NotANumpyModel(f"the .npz file is damaged ({exc})") from None


def _check_array(name: str, stream: IO[bytes]) -> None:
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, _fortran_order, dtype = npy_format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _fortran_order, dtype = npy_format.read_array_header_2_0(stream)
        else:  # 3.0 (UTF-8 field names) has no public reader; np.save writes it only for those
            raise ValueError(f"format version {version[0]}.{version[1]}, which fedgui does not check")
    except ValueError as exc:
        raise NotANumpyModel(f"array '{name}' is not a numpy array ({exc})") from None
    if dtype.hasobject:
        raise NotANumpyModel(f"array '{name}' holds Python objects, not numbers")
    if dtype.kind not in "biufc":
        raise NotANumpyModel(f"array '{name}' holds {dtype} values, not numbers")
    count = int(np.prod(shape, dtype=np.int64))
    expected = count * dtype.itemsize
    if dtype.kind not in "fc":  # integers and booleans are always finite: only check the length
        _check_length(name, stream, expected)
        return
    step = max(dtype.itemsize, CHUNK_BYTES - CHUNK_BYTES % dtype.itemsize)
    read = bad = 0
    while read < expected:
        chunk = stream.read(min(step, expected - read))
        if not chunk:
            break
        usable = len(chunk) - len(chunk) % dtype.itemsize
        values = np.frombuffer(chunk[:usable], dtype=dtype)
        bad += int(values.size - np.count_nonzero(np.isfinite(values)))
        read += len(chunk)
    if read < expected:
        raise NotANumpyModel(f"array '{name}' is cut short ({read} of {expected} bytes)")
    if bad:
        raise NotANumpyModel(
            f"array '{name}' (shape {tuple(shape)}) has {bad} of {count} values that are NaN or infinite"
        )


def _check_length(name: str, stream: IO[bytes], expected: int) -> None:
    read = 0
    while read < expected:
        chunk = stream.read(min(CHUNK_BYTES, expected - read))
        if not chunk:
            raise NotANumpyModel(f"array '{name}' is cut short ({read} of {expected} bytes)")
        read += len(chunk)

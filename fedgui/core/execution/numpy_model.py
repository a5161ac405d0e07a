"""Is a file a model FEDn's numpy helper can use? (``.npz`` of numeric arrays, all finite.)

FEDn's default helper (``numpyhelper``) loads the update with ``np.load`` and averages it into the
global model: "not a model" fails on the server, and a single NaN spreads into every client's next
global model. The check reads one zip member at a time, in chunks, so memory does not grow with
the model's size (the design's rule: models never sit in memory whole).
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO, Protocol, cast

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
        with zipfile.ZipFile(path) as archive, open(path, "rb") as raw:
            members = [info for info in archive.infolist() if info.filename.endswith(".npy")]
            if not members:
                raise NotANumpyModel("the .npz file holds no arrays")
            buffer = bytearray(CHUNK_BYTES)
            for info in members:
                name = info.filename[: -len(".npy")]
                if info.compress_type == zipfile.ZIP_STORED and not info.flag_bits & _ENCRYPTED:
                    _check_array(name, _StoredMember(raw, info), buffer)  # np.savez: no copies
                else:
                    with archive.open(info) as stream:  # a ZipExtFile: typeshed says IO, it has readinto
                        _check_array(name, cast(_Member, stream), buffer)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise NotANumpyModel(f"the .npz file is damaged ({exc})") from None


_ENCRYPTED = 0x1
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, (fields not needed), name and extra lengths


class _Member(Protocol):
    """What a member is read through: zipfile's stream, or :class:`_StoredMember`."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readinto(self, buffer: memoryview, /) -> int: ...


class _StoredMember:
    """An uncompressed member (``np.savez``) read straight from the file into the caller's buffer.

    zipfile's reader copies every chunk two or three times on its way out, most of a check's
    time for a large model; this reads into one reused buffer and, like zipfile, checks the
    member's CRC-32 once its last byte was read."""

    def __init__(self, handle: IO[bytes], info: zipfile.ZipInfo) -> None:
        handle.seek(info.header_offset)
        local = handle.read(_LOCAL_HEADER.size)
        if len(local) != _LOCAL_HEADER.size or local[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header for {info.filename}")
        _signature, name_length, extra_length = _LOCAL_HEADER.unpack(local)
        handle.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
        self._handle = handle
        self._info = info
        self._left = info.file_size
        self._crc = 0

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(self._left if size < 0 else min(size, self._left))
        self._consumed(data)
        return data

    def readinto(self, buffer: memoryview) -> int:
        view = buffer[: self._left]
        got = self._handle.readinto(view)  # type: ignore[attr-defined]
        self._consumed(view[:got])
        return int(got)

    def _consumed(self, data: bytes | memoryview) -> None:
        self._left -= len(data)
        self._crc = zlib.crc32(data, self._crc)
        if self._left == 0 and self._crc != self._info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {self._info.filename!r}")


def _check_array(name: str, stream: _Member, buffer: bytearray) -> None:
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
        _check_length(name, stream, expected, buffer)
        return
    step = max(dtype.itemsize, len(buffer) - len(buffer) % dtype.itemsize)
    if step > len(buffer):  # one value larger than the buffer (never in practice)
        buffer = bytearray(step)
    view = memoryview(buffer)
    read = bad = 0
    while read < expected:
        got = stream.readinto(view[: min(step, expected - read)])
        if not got:
            break
        usable = got - got % dtype.itemsize
        values = np.frombuffer(view[:usable], dtype=dtype)  # a view of the buffer, no copy
        bad += int(values.size - np.count_nonzero(np.isfinite(values)))
        read += got
    if read < expected:
        raise NotANumpyModel(f"array '{name}' is cut short ({read} of {expected} bytes)")
    if bad:
        raise NotANumpyModel(
            f"array '{name}' (shape {tuple(shape)}) has {bad} of {count} values that are NaN or infinite"
        )


def _check_length(name: str, stream: _Member, expected: int, buffer: bytearray) -> None:
    view = memoryview(buffer)
    read = 0
    while read < expected:
        got = stream.readinto(view[: min(len(view), expected - read)])
        if not got:
            raise NotANumpyModel(f"array '{name}' is cut short ({read} of {expected} bytes)")
        read += got

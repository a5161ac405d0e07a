"""Tell the archive format from its first bytes, never from its name.

The controller renames uploads to ``<uuid>.<text after the last dot>``, so ``package.tar.gz`` comes
back as ``<uuid>.gz``; the name says nothing reliable.
"""

from __future__ import annotations

from pathlib import Path

GZIP = "gzip"
BZIP2 = "bzip2"
XZ = "xz"
TAR = "tar"
ZIP = "zip"
ZSTD = "zstd"
UNKNOWN = "unknown"

#: Formats :func:`fedgui.core.package.unpack.safe_unpack` can read.
SUPPORTED = frozenset({GZIP, BZIP2, XZ, TAR})

_MAGIC = (
    (b"\x1f\x8b", GZIP),
    (b"BZh", BZIP2),
    (b"\xfd7zXZ\x00", XZ),
    (b"PK\x03\x04", ZIP),
    (b"PK\x05\x06", ZIP),  # an empty zip
    (b"\x28\xb5\x2f\xfd", ZSTD),
)
_USTAR_OFFSET = 257


def detect_archive_type(path: Path | str) -> str:
    """One of ``gzip``, ``bzip2``, ``xz``, ``tar``, ``zip``, ``zstd`` or ``unknown``."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    # POSIX ("ustar\0") and GNU ("ustar  ") tar both carry "ustar" at offset 257.
    if head[_USTAR_OFFSET : _USTAR_OFFSET + 5] == b"ustar":
        return TAR
    return UNKNOWN

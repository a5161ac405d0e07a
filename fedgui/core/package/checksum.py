"""SHA-256 of an archive file, and a deterministic SHA-256 of an unpacked package folder."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

#: Big reads keep hashing at disk/OpenSSL speed; 4 KiB reads (FEDn's) spend their time in Python.
CHUNK_SIZE = 1024 * 1024

_HEX64 = re.compile(r"[0-9a-f]{64}")

#: Version tag mixed into folder checksums so a future change of scheme can never collide.
FOLDER_SCHEME = b"fedgui-folder-sha256-v1\0"

#: Left out of folder checksums: they change by merely running the package (Python writes
#: bytecode caches, FEDn-style runs create a venv in the package folder) or are not code that runs.
IGNORED_DIR_NAMES = frozenset({"__pycache__", ".git", ".hg", ".svn"})
IGNORED_SUFFIXES = (".pyc", ".pyo")


def normalize_checksum(value: str) -> str | None:
    """Lowercase, stripped SHA-256 hex, or None when ``value`` is not one."""
    text = value.strip().lower()
    return text if _HEX64.fullmatch(text) else None


def sha256_file(path: Path | str, chunk_size: int = CHUNK_SIZE) -> str:
    """Lowercase hex SHA-256 of the raw bytes of ``path``, read in big chunks (as FEDn computes it)."""
    digest = hashlib.sha256()
    _hash_file_into(digest, path, memoryview(bytearray(chunk_size)))
    return digest.hexdigest()


def _hash_file_into(digest: hashlib._Hash, path: Path | str, buffer: memoryview) -> int:
    """Feed the bytes of ``path`` into ``digest``, read through ``buffer`` (reused between
    files, so big files cost no more memory than small ones); returns how many bytes."""
    total = 0
    with open(path, "rb", buffering=0) as handle:
        while count := handle.readinto(buffer):
            digest.update(buffer[:count])
            total += count
    return total


def _is_virtualenv(directory: Path) -> bool:
    return (directory / "pyvenv.cfg").is_file()


def folder_files(folder: Path) -> Iterator[tuple[str, Path]]:
    """(relative POSIX path, path) of every file and symlink that counts, sorted by relative path.

    Symlinks are yielded but never followed; folders that are virtualenvs, bytecode caches or
    version-control data are skipped (see ``IGNORED_DIR_NAMES``).
    """
    found: list[tuple[str, Path]] = []
    for current, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(current)
        kept = []
        for name in dirnames:
            sub = here / name
            if sub.is_symlink():
                found.append((sub.relative_to(folder).as_posix(), sub))
            elif name not in IGNORED_DIR_NAMES and not _is_virtualenv(sub):
                kept.append(name)
        dirnames[:] = kept
        for name in filenames:
            if name.endswith(IGNORED_SUFFIXES):
                continue
            path = here / name
            found.append((path.relative_to(folder).as_posix(), path))
    found.sort(key=lambda item: item[0].encode("utf-8", "surrogateescape"))
    return iter(found)


def sha256_folder(folder: Path | str) -> str:
    """Deterministic SHA-256 of a package folder, used as the checksum of a local package.

    Scheme (v1): start with ``FOLDER_SCHEME``; then, for each entry from :func:`folder_files` in
    byte order of its UTF-8 relative POSIX path, add ``path NUL kind NUL size NUL content`` where
    kind is ``F`` (content = the file bytes, size = their length) or ``L`` (a symlink; content =
    its target text). Sizes are decimal ASCII. Length prefixes make the byte stream unambiguous,
    so two different folders cannot produce the same input to SHA-256. Modes and times are not
    included: they do not change what the code does, and copies between machines lose them.
    """
    folder = Path(folder)
    digest = hashlib.sha256(FOLDER_SCHEME)
    buffer = memoryview(bytearray(CHUNK_SIZE))
    for relative, path in folder_files(folder):
        name = relative.encode("utf-8", "surrogateescape")
        if path.is_symlink():
            target = os.readlink(path).encode("utf-8", "surrogateescape")
            digest.update(b"%s\0L\0%d\0%s" % (name, len(target), target))
            continue
        size = path.stat().st_size
        digest.update(b"%s\0F\0%d\0" % (name, size))
        if _hash_file_into(digest, path, buffer) != size:
            # The file changed while we read it; hashing a moving target would approve nothing real.
            raise OSError(f"{path} changed while it was being read")
    return digest.hexdigest()

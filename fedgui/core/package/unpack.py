"""Unpack a tar archive so that nothing can land outside the target folder.

We do every check ourselves instead of relying on ``tarfile``'s ``filter=`` (missing on older
Python 3.10 releases) and read the archive strictly front to back, so a compressed archive is
decompressed exactly once.

Link policy: links are allowed only when they stay inside the package. A symlink is refused when
its target is absolute or leaves the package, even through other links (checked again on disk
after everything is unpacked); a hardlink must point at a regular file unpacked earlier. No member
is ever written through a symlink: every folder on a member's path must be a real folder.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import lzma
import os
import shutil
import stat
import sys
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from fedgui.core.package import archive_type
from fedgui.core.package.errors import (
    NOTHING_RAN,
    ArchiveTooLarge,
    ChecksumMismatch,
    PackageError,
    UnsafeArchive,
    UnsupportedArchive,
)

#: Read and write in big blocks: per-call overhead, not I/O, dominates with small ones.
COPY_CHUNK = 1024 * 1024

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
#: setuid, setgid and sticky bits are dropped: a package has no business asking for them.
_PERMISSION_BITS = 0o777


@dataclass(frozen=True)
class UnpackLimits:
    """Upper bounds that stop archive bombs before they fill the disk."""

    max_members: int = 20_000
    max_total_bytes: int = 4 * 1024**3


def _refuse(member_name: str, why: str) -> UnsafeArchive:
    return UnsafeArchive(
        f"The compute package contains '{member_name}', {why}. fedgui refused to unpack it. {NOTHING_RAN}"
    )


def _split_member_path(name: str, member_name: str) -> list[str]:
    """Relative path components of an archive path, or :class:`UnsafeArchive` if it could escape."""
    # Backslashes are separators on Windows, so treat them as such everywhere.
    text = name.replace("\\", "/")
    if text.startswith("/") or (len(text) >= 2 and text[1] == ":"):
        raise _refuse(member_name, "an absolute path")
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise _refuse(member_name, "a path that points outside the package folder ('..')")
    if any("\0" in part for part in parts):
        raise _refuse(member_name, "a name with a NUL character")
    return parts


def _symlink_stays_inside(parts: list[str], target: str) -> bool:
    """Whether a symlink at ``parts`` pointing at ``target`` stays inside the root, lexically."""
    text = target.replace("\\", "/")
    if not text or text.startswith("/") or (len(text) >= 2 and text[1] == ":"):
        return False
    depth = len(parts) - 1  # the link's own folder
    for part in text.split("/"):
        if part in ("", "."):
            continue
        depth = depth - 1 if part == ".." else depth + 1
        if depth < 0:
            return False
    return True


@contextlib.contextmanager
def _open_decompressed(archive: Path) -> Iterator[tuple[_HashingReader, IO[bytes]]]:
    kind = archive_type.detect_archive_type(archive)
    if kind == archive_type.ZIP:
        raise UnsupportedArchive(
            "The compute package is a zip file; fedgui (like FEDn) can only unpack tar archives "
            f"(.tgz, .tar.gz, .tar.bz2, .tar.xz, .tar). {NOTHING_RAN}"
        )
    if kind not in archive_type.SUPPORTED:
        raise UnsupportedArchive(
            f"The compute package is not a tar archive fedgui can read (it looks like: {kind}). {NOTHING_RAN}"
        )
    openers: dict[str, Callable[[Any], contextlib.AbstractContextManager[Any]]] = {
        archive_type.GZIP: lambda raw: gzip.GzipFile(fileobj=raw, mode="rb"),
        archive_type.BZIP2: lambda raw: bz2.BZ2File(raw, mode="rb"),
        archive_type.XZ: lambda raw: lzma.LZMAFile(raw, mode="rb"),  # noqa: SIM115 - entered below
        archive_type.TAR: contextlib.nullcontext,
    }
    with open(archive, "rb", buffering=COPY_CHUNK) as handle:
        raw = _HashingReader(handle)
        with openers[kind](raw) as stream:
            yield raw, stream


class _HashingReader:
    """Hashes the raw archive bytes as the decompressor reads them.

    The caller checked the checksum before unpacking; hashing the bytes actually unpacked (almost
    free next to decompression) closes the gap in which the file could be swapped in between.
    """

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.mode = "rb"

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data

    def hexdigest_of_everything(self) -> str:
        """Read what the decompressor left (trailing padding) and return the hash of the whole file."""
        while self.read(COPY_CHUNK):
            pass
        return self.digest.hexdigest()


class _Extractor:
    """Writes members below ``root`` (a fresh private folder), enforcing limits and the link policy."""

    def __init__(self, root: Path, limits: UnpackLimits) -> None:
        self.root = root
        self.limits = limits
        self.members = 0
        self.bytes_written = 0
        self.symlinks: list[tuple[str, Path]] = []
        self.buffer = bytearray(COPY_CHUNK)

    def _parent_dir(self, parts: list[str], member_name: str) -> Path:
        """Create (or check) every folder above a member; refuse to pass through a symlink."""
        current = self.root
        for part in parts[:-1]:
            current = current / part
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                os.mkdir(current, 0o755)
                continue
            if stat.S_ISLNK(info.st_mode):
                raise _refuse(member_name, "a path that goes through a link")
            if not stat.S_ISDIR(info.st_mode):
                raise _refuse(member_name, "a path that goes through a file")
        return current

    def _clear_place(self, path: Path, member_name: str, for_directory: bool) -> bool:
        """Make room for a member; a later member replaces an earlier file, as tar does.

        Returns True when a real folder is already there (only fine for a folder member).
        """
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return False
        if stat.S_ISDIR(info.st_mode):
            if for_directory:
                return True
            raise _refuse(member_name, "a file where the archive already has a folder")
        os.unlink(path)
        return False

    def add(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise ArchiveTooLarge(
                f"The compute package has more than {self.limits.max_members} files and folders, "
                f"which is over the limit. It was not unpacked. {NOTHING_RAN}"
            )
        name = member.name
        parts = _split_member_path(name, name)
        if member.ischr() or member.isblk():
            raise _refuse(name, "a device file")
        if member.isfifo():
            raise _refuse(name, "a named pipe (fifo)")
        if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
            raise _refuse(name, "a kind of file that packages cannot contain")
        if not parts:
            if member.isdir():
                return  # "./" itself
            raise _refuse(name, "an entry without a name")
        parent = self._parent_dir(parts, name)
        path = parent / parts[-1]
        if member.isdir():
            if not self._clear_place(path, name, for_directory=True):
                os.mkdir(path, 0o700)
            # Owner keeps full access so the cache can always be cleaned up again.
            os.chmod(path, (member.mode & _PERMISSION_BITS) | 0o700)
        elif member.isreg():
            self._clear_place(path, name, for_directory=False)
            self._write_file(tar, member, path)
        elif member.issym():
            if not _symlink_stays_inside(parts, member.linkname):
                raise _refuse(name, f"a link to '{member.linkname}', outside the package folder")
            self._clear_place(path, name, for_directory=False)
            try:
                os.symlink(member.linkname.replace("\\", "/"), path)
            except OSError as error:  # e.g. Windows without the privilege to make symlinks
                raise PackageError(
                    f"The compute package contains a link ('{name}') that this computer cannot create "
                    f"({error.strerror}). {NOTHING_RAN}"
                ) from error
            self.symlinks.append((name, path))
        else:
            self._hardlink(parts, member, path)

    def _write_file(self, tar: tarfile.TarFile, member: tarfile.TarInfo, path: Path) -> None:
        if self.bytes_written + member.size > self.limits.max_total_bytes:
            raise self._too_big()
        source = tar.extractfile(member)
        if source is None:  # pragma: no cover - tarfile returns a reader for every regular member
            raise _refuse(member.name, "a file that cannot be read")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_BINARY
        fd = os.open(path, flags, 0o600)
        buffer = self.buffer
        view = memoryview(buffer)
        with os.fdopen(fd, "wb", buffering=0) as target:
            while True:
                count = source.readinto(buffer)  # type: ignore[attr-defined]  # a BufferedReader
                if not count:
                    break
                # Count what is really written, not what the header claims.
                self.bytes_written += count
                if self.bytes_written > self.limits.max_total_bytes:
                    raise self._too_big()
                target.write(view[:count])
        # Keep the exec bit (scripts), drop setuid/setgid/sticky, and keep the owner able to read.
        os.chmod(path, (member.mode & _PERMISSION_BITS) | 0o600)

    def _hardlink(self, parts: list[str], member: tarfile.TarInfo, path: Path) -> None:
        name = member.name
        source_parts = _split_member_path(member.linkname, name)
        if not source_parts:
            raise _refuse(name, "a hard link to the package folder itself")
        source = self.root.joinpath(*source_parts)
        # The source must be a regular file reached through real folders only.
        current = self.root
        for part in source_parts[:-1]:
            current = current / part
            if not current.is_dir() or current.is_symlink():
                raise _refuse(name, f"a hard link to '{member.linkname}', which is not a file in the package")
        try:
            info = os.lstat(source)
        except FileNotFoundError:
            raise _refuse(
                name, f"a hard link to '{member.linkname}', which is not a file in the package"
            ) from None
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(name, f"a hard link to '{member.linkname}', which is not a file in the package")
        if os.path.lexists(path) and os.path.samefile(source, path):
            return  # already the same file (a member linked to itself)
        self._clear_place(path, name, for_directory=False)
        try:
            os.link(source, path)
        except OSError:
            # File systems without hard links get a copy; it counts against the size limit.
            self.bytes_written += info.st_size
            if self.bytes_written > self.limits.max_total_bytes:
                raise self._too_big() from None
            shutil.copyfile(source, path)
            os.chmod(path, info.st_mode & _PERMISSION_BITS)

    def check_symlinks_on_disk(self) -> None:
        """Resolve every symlink for real: chains of links can leave the folder even when each looks fine."""
        real_root = os.path.realpath(self.root)
        for name, path in self.symlinks:
            resolved = os.path.realpath(path)
            if os.path.commonpath([real_root, resolved]) != real_root:
                raise _refuse(
                    name, "a link that, followed through other links, points outside the package folder"
                )

    def _too_big(self) -> ArchiveTooLarge:
        limit_mb = self.limits.max_total_bytes / 1e6
        return ArchiveTooLarge(
            f"The compute package unpacks to more than {limit_mb:,.0f} MB, which is over the limit. "
            f"It was not unpacked. {NOTHING_RAN}"
        )


def _damaged(error: BaseException) -> UnsupportedArchive:
    return UnsupportedArchive(
        f"The compute package archive is damaged or is not a tar archive ({error}). {NOTHING_RAN}",
        "Try downloading it again; if it keeps happening, tell the network operator.",
    )


def _remove_tree(path: Path) -> None:
    def make_writable_and_retry(
        function: Callable[[str], object], failed_path: str, _exc_info: object
    ) -> None:  # read-only files on Windows
        os.chmod(failed_path, stat.S_IWRITE | stat.S_IREAD | stat.S_IEXEC)
        function(failed_path)

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=make_writable_and_retry)
    else:
        shutil.rmtree(path, onerror=make_writable_and_retry)


def safe_unpack(
    archive: Path | str,
    dest: Path | str,
    limits: UnpackLimits | None = None,
    expected_sha256: str | None = None,
) -> Path:
    """Unpack ``archive`` into the new folder ``dest`` and return ``dest``.

    Everything is written to a private temp folder beside ``dest`` and renamed to ``dest`` only
    when complete and checked, so a half-unpacked folder is never visible under ``dest``. On any
    refusal the temp folder is removed and ``dest`` is not created. ``dest`` must not exist yet
    (``FileExistsError`` otherwise, also when another process finished the same folder first).
    With ``expected_sha256`` the bytes read while unpacking must hash to it (``ChecksumMismatch``).
    """
    archive = Path(archive)
    dest = Path(dest)
    limits = limits or UnpackLimits()
    if os.path.lexists(dest):
        raise FileExistsError(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".unpacking", dir=dest.parent))
    try:
        extractor = _Extractor(staging, limits)
        with _open_decompressed(archive) as (raw, stream):
            try:
                # Stream mode ("r|"): strictly sequential reads, no seeking back in a compressed stream.
                with tarfile.open(fileobj=stream, mode="r|", bufsize=COPY_CHUNK) as tar:
                    for member in tar:
                        extractor.add(tar, member)
            except OSError as error:
                if error.errno is None:  # decompressors report bad data as OSError without errno
                    raise _damaged(error) from error
                raise PackageError(
                    f"fedgui could not write the unpacked package to {dest.parent} ({error.strerror}). "
                    f"{NOTHING_RAN}",
                    "Free some disk space (or check the folder's permissions) and try again.",
                ) from error
            except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError) as error:
                raise _damaged(error) from error
            if expected_sha256 is not None:
                actual = raw.hexdigest_of_everything()
                if actual != expected_sha256.strip().lower():
                    raise ChecksumMismatch(expected_sha256.strip().lower(), actual)
        extractor.check_symlinks_on_disk()
        os.rename(staging, dest)
    except BaseException:
        _remove_tree(staging)
        raise
    return dest

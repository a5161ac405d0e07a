"""Verified, unpacked packages kept by checksum under ``cache_dir()/packages/<sha256>/``.

Layout of one entry: ``<sha256>/files/`` holds what the archive unpacked to, and
``<sha256>/info.json`` records the archive size. An entry appears only by renaming a complete,
checked staging folder, so its existence means it is whole and its manifest parsed.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fedgui.core import paths
from fedgui.core.fileio import atomic_write_text
from fedgui.core.package.checksum import normalize_checksum, sha256_file, sha256_folder
from fedgui.core.package.errors import NOTHING_RAN, ChecksumMismatch, PackageError
from fedgui.core.package.manifest import PackageManifest, find_package_root, load_manifest
from fedgui.core.package.unpack import UnpackLimits, _remove_tree, safe_unpack

_INFO_NAME = "info.json"
_FILES_NAME = "files"
_INFO_FORMAT = 1
#: Packages nobody approved, or replaced by a newer approved one, are removed once unused this long.
UNUSED_DAYS = 7
#: Unpacking folders left by a crash are removed after this long (a live one takes seconds).
STALE_STAGING_SECONDS = 24 * 3600


@dataclass(frozen=True)
class PreparedPackage:
    """A verified, unpacked package whose manifest parsed; not yet approved, nothing has run."""

    checksum: str
    root: Path  # the folder with fedn.yaml: the entry points' working directory
    manifest: PackageManifest
    archive_size: int | None  # None for a local folder package
    unpacked_dir: Path | None = None  # top of what was unpacked (== root unless one folder down)

    @property
    def top(self) -> Path:
        return self.unpacked_dir or self.root


class PackageCache:
    """Unpack each package once per checksum; ``root`` defaults to ``cache_dir()/packages``."""

    def __init__(self, root: Path | None = None, limits: UnpackLimits | None = None) -> None:
        self.root = Path(root) if root is not None else paths.cache_dir() / "packages"
        self.limits = limits or UnpackLimits()

    def prepare(self, archive: Path | str, expected_checksum: str | None = None) -> PreparedPackage:
        """Verify ``archive`` against ``expected_checksum`` (when given), unpack it safely, parse it.

        The checksum is checked before anything is unpacked: a mismatch raises
        :class:`ChecksumMismatch` and leaves the cache untouched.
        """
        archive = Path(archive)
        checksum = sha256_file(archive)
        if expected_checksum is not None:
            expected = normalize_checksum(expected_checksum)
            if expected != checksum:
                raise ChecksumMismatch(expected_checksum.strip(), checksum)
        cached = self.get(checksum)
        if cached is not None:
            return cached
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{checksum[:16]}.", suffix=".partial", dir=self.root))
        try:
            files = safe_unpack(archive, staging / _FILES_NAME, self.limits, expected_sha256=checksum)
            load_manifest(find_package_root(files))  # a package with a broken manifest is never cached
            info = {"format": _INFO_FORMAT, "checksum": checksum, "archive_size": archive.stat().st_size}
            atomic_write_text(staging / _INFO_NAME, json.dumps(info))
            self._commit(staging, self.root / checksum)
        except BaseException:
            if staging.exists():
                _remove_tree(staging)
            raise
        prepared = self.get(checksum)
        if prepared is None:  # pragma: no cover - only if someone deletes the entry right now
            raise PackageError(
                f"The unpacked package {checksum} vanished from the cache. {NOTHING_RAN}", "Try again."
            )
        return prepared

    @staticmethod
    def _commit(staging: Path, entry: Path) -> None:
        try:
            os.rename(staging, entry)
        except OSError:
            if not entry.is_dir():
                raise
            # Another fedgui process finished the same checksum first; theirs is just as good.
            _remove_tree(staging)

    def get(self, checksum: str) -> PreparedPackage | None:
        """The cached package with this checksum, or None if it is not (completely) cached."""
        normalized = normalize_checksum(checksum)
        if normalized is None:  # also keeps odd input like "../x" from ever forming a path
            return None
        entry = self.root / normalized
        try:
            info = json.loads((entry / _INFO_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        with contextlib.suppress(OSError):  # "last used", for prune()
            os.utime(entry / _INFO_NAME)
        files = entry / _FILES_NAME
        package_root = find_package_root(files)
        return PreparedPackage(
            checksum=normalized,
            root=package_root,
            manifest=load_manifest(package_root),
            archive_size=info.get("archive_size"),
            unpacked_dir=files,
        )

    def prune(self, keep: Iterable[str], unused_days: float = UNUSED_DAYS) -> list[str]:
        """Remove packages not in ``keep`` (the approved ones still in use, the one under review)
        that were not used for ``unused_days``, and crashed unpackings; returns the removed
        checksums. The cache is shared by all profiles; the grace time protects a package another
        profile or process is about to use."""
        kept = {normalize_checksum(c) for c in keep if c}
        now = time.time()
        removed: list[str] = []
        if not self.root.is_dir():
            return removed
        for entry in self.root.iterdir():
            try:
                last_used = max(entry.stat().st_mtime, (entry / _INFO_NAME).stat().st_mtime)
            except OSError:
                last_used = entry.stat().st_mtime if entry.exists() else now
            if entry.name.endswith(".partial"):
                if now - last_used > STALE_STAGING_SECONDS:
                    _remove_tree(entry)
                continue
            if normalize_checksum(entry.name) is None or entry.name in kept:
                continue
            if now - last_used > unused_days * 86400:
                _remove_tree(entry)
                removed.append(entry.name)
        return removed

    def remove(self, checksum: str) -> None:
        """Forget a cached package (for example when it is no longer approved anywhere)."""
        normalized = normalize_checksum(checksum)
        if normalized is not None and (self.root / normalized).is_dir():
            _remove_tree(self.root / normalized)

    def prepare_folder(self, folder: Path | str) -> PreparedPackage:
        """A package that is already unpacked (local mode): used in place, checksum over its files.

        See :func:`fedgui.core.package.checksum.sha256_folder` for the checksum scheme; any edit
        to the code changes it, so the person has to approve the package again.
        """
        folder = Path(folder).resolve()
        if not folder.is_dir():
            raise PackageError(
                f"The package folder {folder} does not exist.", "Choose the folder that holds fedn.yaml."
            )
        package_root = find_package_root(folder)
        manifest = load_manifest(package_root)
        return PreparedPackage(
            checksum=sha256_folder(folder),
            root=package_root,
            manifest=manifest,
            archive_size=None,
            unpacked_dir=folder,
        )

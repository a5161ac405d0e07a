"""What a review screen shows before the person approves a package, and what changed since the last one."""

from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from fedgui.core.package.cache import PreparedPackage
from fedgui.core.package.checksum import CHUNK_SIZE
from fedgui.core.package.manifest import PythonEnvSpec

#: Bigger text files are shown as "changed" without a diff: nobody reviews a 5 MB diff line by line.
MAX_DIFF_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ReviewFile:
    """One file in the package; ``path`` is relative to the package root (POSIX separators)."""

    path: str
    size: int
    sha256: str
    link_target: str | None = None  # set for symlinks (size/sha256 then describe the link text)


@dataclass(frozen=True)
class PackageReview:
    checksum: str
    archive_size: int | None
    entry_points: dict[str, str]
    python_env: PythonEnvSpec | None
    build_dependencies: tuple[str, ...]
    dependencies: tuple[str, ...]
    files: list[ReviewFile]
    total_size: int
    root: Path
    previous_checksum: str | None = None
    previous_root: Path | None = None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def is_update(self) -> bool:
        return self.previous_checksum is not None

    def text_diff(self, path: str) -> str | None:
        """Unified diff of one changed (or added/removed) text file; None for binary or huge files."""
        if ".." in Path(path).parts or Path(path).is_absolute():
            return None
        old = self.previous_root / path if self.previous_root is not None else None
        return unified_text_diff(old, self.root / path, path)


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def list_files(package: PreparedPackage) -> list[ReviewFile]:
    """Every file unpacked, sorted; paths are relative to the package root (``../x`` if beside it)."""
    files = []
    for current, dirnames, filenames in os.walk(package.top, followlinks=False):
        here = Path(current)
        names = filenames + [name for name in dirnames if (here / name).is_symlink()]
        for name in names:
            path = here / name
            relative = Path(os.path.relpath(path, package.root)).as_posix()
            if path.is_symlink():
                target = os.readlink(path)
                data = target.encode("utf-8", "surrogateescape")
                files.append(ReviewFile(relative, len(data), hashlib.sha256(data).hexdigest(), target))
            else:
                files.append(ReviewFile(relative, path.stat().st_size, _hash_file(path)))
    files.sort(key=lambda item: item.path)
    return files


def build_review(package: PreparedPackage, previous: PreparedPackage | None = None) -> PackageReview:
    """Everything the review screen shows; with ``previous`` also files added, removed, changed."""
    files = list_files(package)
    env = package.manifest.python_env
    review = PackageReview(
        checksum=package.checksum,
        archive_size=package.archive_size,
        entry_points=dict(package.manifest.entry_points),
        python_env=env,
        build_dependencies=env.build_dependencies if env else (),
        dependencies=env.dependencies if env else (),
        files=files,
        total_size=sum(item.size for item in files if item.link_target is None),
        root=package.root,
    )
    if previous is None:
        return review
    now = {item.path: item for item in files}
    before = {item.path: item for item in list_files(previous)}
    return replace(
        review,
        previous_checksum=previous.checksum,
        previous_root=previous.root,
        added=sorted(now.keys() - before.keys()),
        removed=sorted(before.keys() - now.keys()),
        changed=sorted(
            path
            for path in now.keys() & before.keys()
            if (now[path].sha256, now[path].link_target) != (before[path].sha256, before[path].link_target)
        ),
    )


def _read_text(path: Path | None) -> list[str] | None:
    """Lines of a text file; [] when absent; None when binary, not UTF-8, a link or too big."""
    if path is None or not os.path.lexists(path):
        return []
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_DIFF_BYTES:
        return None
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def unified_text_diff(old: Path | None, new: Path | None, label: str) -> str | None:
    """Unified diff between two versions of a text file (either may be missing); None if binary."""
    old_lines = _read_text(old)
    new_lines = _read_text(new)
    if old_lines is None or new_lines is None:
        return None
    return "".join(difflib.unified_diff(old_lines, new_lines, fromfile=f"a/{label}", tofile=f"b/{label}"))

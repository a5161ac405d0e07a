"""Files a package's requirement lists make pip read, which must all be inside the package.

``python_env.yaml`` may list pip options such as ``-r other.txt``. pip reads such a file and,
when a line is not a valid requirement, quotes it in its error: ``-r /etc/passwd`` would print
the first line of that file into fedgui's messages and logs. A package has no business reading
this computer's files, so any file option (and any local path) that leads outside the package is
refused before pip runs, without reading the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

_FILE_OPTIONS = ("-r", "--requirement", "-c", "--constraint")
_PATH_OPTIONS = ("-e", "--editable", "-f", "--find-links")
#: Requirement files may include each other; deeper nesting than this is refused as odd.
MAX_DEPTH = 5


def _inside(path: Path, root: str) -> bool:
    real = os.path.realpath(path)
    return os.path.commonpath([root, real]) == root


def _looks_local(target: str) -> bool:
    return target.startswith(("/", "~", ".", "file:", "\\")) or (len(target) > 1 and target[1] == ":")


def _option_target(item: str) -> tuple[str, str] | None:
    """(option, target) for ``-r x``, ``-rx``, ``--requirement=x`` and the like; None otherwise."""
    for option in (*_FILE_OPTIONS, *_PATH_OPTIONS):
        if item == option:
            return None
        if item.startswith(option + " ") or item.startswith(option + "="):
            return option, item[len(option) + 1 :].strip()
        if len(option) == 2 and item.startswith(option) and not item.startswith(option + "-"):
            return option, item[2:].strip()
    return None


def outside_reference(
    requirements: Iterable[str], base_dir: Path, package_root: Path, depth: int = 0
) -> str | None:
    """The first requirement item that makes pip read something outside ``package_root``
    (e.g. ``"-r /etc/passwd"``), or None. Files inside the package are followed."""
    root = os.path.realpath(package_root)
    for raw in requirements:
        item = raw.split(" #", 1)[0].strip()
        if not item or item.startswith("#"):
            continue
        found = _option_target(item)
        if found is None:
            if _looks_local(item) and not _inside(base_dir / item.removeprefix("file:"), root):
                return item
            continue
        option, target = found
        if option in _PATH_OPTIONS and not _looks_local(target):
            continue  # a URL (git+https://…, an index page): not a file on this computer
        local = Path(os.path.expanduser(target.removeprefix("file://").removeprefix("file:")))
        path = local if local.is_absolute() else base_dir / local
        if not _inside(path, root):
            return item
        if option in _FILE_OPTIONS and path.is_file():
            if depth >= MAX_DEPTH:
                return item
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            nested = outside_reference(lines, path.parent, package_root, depth + 1)
            if nested is not None:
                return nested
    return None

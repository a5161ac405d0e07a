"""A full disk, said plainly: what could not be written, where, and what to do.

"No space left on device" reaches fedgui as an OSError (ENOSPC, or EDQUOT over a quota) from a
file write, as SQLite's "database or disk is full", or only as text in a child process's output
(pip, ``python -m venv``). Each place that writes turns it into :class:`DiskFull` naming itself.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

from fedgui.core.errors import FedguiError

_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_FULL_TEXTS = ("no space left on device", "disk quota exceeded", "database or disk is full")


FREE_SOME_SPACE = (
    "Free some space on that disk (empty the trash, remove large files you no longer need); "
    "fedgui tries again by itself."
)


def disk_full_message(what: str, where: Path | str) -> str:
    return (
        f"There is no space left on the disk for {what} ({where}{_free_space(Path(where))}), so it "
        "could not be written. Nothing half-written was kept."
    )


class DiskFull(FedguiError):
    default_next_step = FREE_SOME_SPACE

    def __init__(self, what: str, where: Path | str, next_step: str | None = None) -> None:
        self.what = what
        self.where = Path(where)
        super().__init__(disk_full_message(what, where), next_step)


def _free_space(where: Path) -> str:
    free = free_bytes(where)
    return f"; {free / 1e6:.0f} MB free" if free is not None and free < 10e9 else ""


def is_disk_full(exc: BaseException | None) -> bool:
    """True for ENOSPC/EDQUOT and SQLite's "disk is full", also when wrapped in another error."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, DiskFull):
            return True
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        if isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc).lower():
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def full_file(exc: BaseException | None) -> str | None:
    """The file name an ENOSPC error carries, looking through wrapping errors."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OSError) and exc.filename:
            return str(exc.filename)
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


#: Below this much free space, a failed build or install is taken to be the disk's fault: tools
#: such as ``python -m venv`` report only "ensurepip returned non-zero exit status 1".
LOW_SPACE_BYTES = 64 * 1024 * 1024


def free_bytes(where: Path) -> int | None:
    for folder in (where, *where.parents):
        try:
            return shutil.disk_usage(folder).free
        except OSError:
            continue
    return None


def low_on_space(where: Path, threshold: int = LOW_SPACE_BYTES) -> bool:
    free = free_bytes(where)
    return free is not None and free < threshold


def mentions_disk_full(lines: list[str]) -> bool:
    """For a child process's output (pip, venv): did it fail for lack of space?"""
    return any(text in line.lower() for line in lines for text in _FULL_TEXTS)


def describe_write_failure(what: str, where: Path, exc: BaseException) -> str:
    """One sentence for a write that failed but does not stop the task (a log file)."""
    if is_disk_full(exc):
        return (
            f"fedgui could not write {what} ({where}): there is no space left on that disk. The task "
            "goes on; free some space so that fedgui can keep its records."
        )
    reason = getattr(exc, "strerror", None) or str(exc)
    return f"fedgui could not write {what} ({where}): {reason}. The task goes on."

"""Per-task log files: one plain text file per task, one timestamped line per output line.

Each line is handed to the operating system as soon as it is written (``flush``, not ``fsync``):
if fedgui is killed, everything the entry point printed up to that moment is in the file, which
is exactly when the file is needed. Measured here: 200,000 lines with a flush each take 0.3 s,
so a flooding entry point is not slowed down noticeably.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]")


def safe_folder_name(name: str) -> str:
    """A profile id as a folder name that cannot climb out of the logs folder."""
    cleaned = _UNSAFE_NAME_CHARACTERS.sub("_", name).strip(".")
    return cleaned or "_"


def format_timestamp(epoch_seconds: float) -> str:
    """UTC with milliseconds, e.g. ``2026-11-28T16:44:28.123Z``: sortable, unambiguous."""
    moment = datetime.fromtimestamp(epoch_seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class TaskLogWriter:
    """Appends timestamped lines to one task's log file; safe to share between threads (an
    entry point's stdout and stderr are read on two)."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._pending = ""  # text after the last newline given to write()
        self._file = open(self.path, "a", encoding="utf-8", errors="replace", newline="\n")  # noqa: SIM115

    def write_line(self, text: str, stream: str = "stdout") -> None:
        """Write one line: ``<UTC time> [<stream>] <text>``. Embedded newlines become lines of
        their own, each with the same time, so every line in the file starts with a time."""
        stamp = format_timestamp(self._clock())
        lines = text.rstrip("\r\n").split("\n") or [""]
        record = "".join(f"{stamp} [{stream}] {line.rstrip(chr(13))}\n" for line in lines)
        with self._lock:
            self._file.write(record)
            self._file.flush()

    def write(self, text: str) -> int:
        """File-like ``write`` (for ``print(..., file=writer)``): complete lines are written at
        once, a trailing partial line waits for its newline or :meth:`close`."""
        with self._lock:
            self._pending += text
            *complete, self._pending = self._pending.split("\n")
        for line in complete:
            self.write_line(line, "client")
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, ""
        if pending and not self._file.closed:
            self.write_line(pending, "client")
        with self._lock:
            self._file.close()

    def __enter__(self) -> TaskLogWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

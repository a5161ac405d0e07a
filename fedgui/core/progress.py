"""Progress callbacks fire for every chunk (a 1 GB transfer is a thousand 1 MiB chunks); a
person needs a few updates a second, and a flood of events would load the UI thread."""

from __future__ import annotations

import time
from collections.abc import Callable

#: progress(done_bytes, total_bytes_or_None)
ProgressCallback = Callable[[int, "int | None"], None]


def throttled(callback: ProgressCallback, interval: float = 0.1) -> ProgressCallback:
    """``callback`` at most every ``interval`` seconds, plus always the final (done == total) call."""
    last = [0.0]

    def progress(done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - last[0] >= interval or (total is not None and done >= total):
            last[0] = now
            callback(done, total)

    return progress

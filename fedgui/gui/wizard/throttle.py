"""Progress callbacks fire for every chunk; the UI only needs a few updates a second."""

from __future__ import annotations

import time
from collections.abc import Callable

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

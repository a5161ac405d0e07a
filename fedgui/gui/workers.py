"""Run blocking work off the UI thread and get the result back on it (as Anki's helper does).

    run_in_background(lambda: controller.assign(...), on_done=show_result, on_error=show_error)

``fn`` runs on a pool thread; ``on_done(result)`` or ``on_error(exception)`` run on the UI
thread. Keep a reference to nothing: the pool owns the runnable until it finishes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.signals = _Signals()

    def run(self) -> None:
        try:
            result = self.fn()
        except BaseException as exc:  # handed to on_error on the UI thread
            log.debug("background job failed", exc_info=True)
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)


_active: set[_Job] = set()  # keep Python wrappers (and their signal objects) alive until done


def run_in_background(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    pool: QThreadPool | None = None,
) -> None:
    job = _Job(fn)
    job.setAutoDelete(False)
    _active.add(job)

    def finished_ok(result: Any) -> None:
        _active.discard(job)
        if on_done:
            on_done(result)

    def finished_error(exc: BaseException) -> None:
        _active.discard(job)
        if on_error:
            on_error(exc)
        else:
            log.error("background job failed: %s", exc)

    job.signals.done.connect(finished_ok)
    job.signals.failed.connect(finished_error)
    (pool or QThreadPool.globalInstance()).start(job)


def wait_for_background_jobs(timeout_ms: int = 30000) -> bool:
    """For tests and shutdown: wait until the global pool is idle."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)

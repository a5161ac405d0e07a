"""The one way the GUI hops threads (as Anki's task manager does).

- :func:`run_in_background` runs blocking work (network, disk, waiting for a session to stop) on a
  pool thread and calls ``on_done(result)`` or ``on_error(exception)`` on the UI thread.
- :func:`on_main_thread` calls a function on the UI thread; :func:`main_thread_sink` turns a
  function into a callback that core code may call from any thread (events, progress, log lines).

Every callback names an ``owner`` (a widget or other QObject, or None for none): when the owner
has been deleted by the time the callback would run (the person closed the wizard while a
download was running), the callback is skipped instead of touching a dead widget.

Tests may call :func:`run_synchronously` so background work runs at once on the calling thread,
as Picard's fake thread pool does: no waiting, no race with the end of the test.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThreadPool, Signal

log = logging.getLogger(__name__)

T = TypeVar("T")

_synchronous = False


def run_synchronously(enabled: bool = True) -> None:
    """For tests: run background work at once on the caller's thread (True), or on the pool."""
    global _synchronous
    _synchronous = enabled


def _alive(owner: QObject | None) -> bool:
    return owner is None or shiboken6.isValid(owner)


class _MainThreadCaller(QObject):
    """Lives on the UI thread; a signal emitted from any thread is queued to it."""

    call = Signal(object, object)  # (function, owner)

    def __init__(self) -> None:
        super().__init__()
        self.call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def _run(self, fn: Callable[[], None], owner: QObject | None) -> None:
        if _alive(owner):
            fn()


_caller: _MainThreadCaller | None = None
_caller_lock = threading.Lock()


def _main_thread_caller() -> _MainThreadCaller:
    global _caller
    with _caller_lock:
        if _caller is None:
            app = QCoreApplication.instance()
            if app is None:
                raise RuntimeError("on_main_thread needs a QApplication")
            caller = _MainThreadCaller()
            caller.moveToThread(app.thread())  # created on whatever thread asked first
            _caller = caller
        return _caller


def on_main_thread(fn: Callable[[], None], *, owner: QObject | None) -> None:
    """Call ``fn`` soon on the UI thread (always queued, also when called from it); skipped if
    ``owner`` has been deleted by then. Callable from any thread; never waits."""
    _main_thread_caller().call.emit(fn, owner)


def main_thread_sink(fn: Callable[[T], None], *, owner: QObject | None) -> Callable[[T], None]:
    """A callback for core code on other threads: each value reaches ``fn`` on the UI thread."""
    _main_thread_caller()  # create it now, on the UI thread, before a worker calls

    def send(value: T) -> None:
        on_main_thread(lambda: fn(value), owner=owner)

    return send


def run_in_background(
    work: Callable[[], T],
    on_done: Callable[[T], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    *,
    owner: QObject | None,
) -> None:
    """Run ``work`` on a pool thread; then ``on_done(result)`` or ``on_error(exception)`` on the
    UI thread, unless ``owner`` has been deleted meanwhile. Errors without ``on_error`` are logged."""

    def deliver(ok: bool, value: Any) -> None:
        if not _alive(owner):
            return
        if ok:
            if on_done is not None:
                on_done(value)
        elif on_error is not None:
            on_error(value)
        else:
            log.error("background work failed: %s", value)

    if _synchronous:
        try:
            result = work()
        except Exception as error:
            deliver(False, error)
        else:
            deliver(True, result)
        return

    caller = _main_thread_caller()

    def job() -> None:  # on a pool thread
        try:
            result = work()
        except BaseException as error:  # handed to on_error on the UI thread
            log.debug("background work failed", exc_info=True)
            caller.call.emit(lambda failure=error: deliver(False, failure), None)
        else:
            caller.call.emit(lambda: deliver(True, result), None)

    QThreadPool.globalInstance().start(job)


def wait_for_background_work(timeout_ms: int = 30_000) -> bool:
    """For tests and shutdown: wait until no background work is running. Callbacks still queued
    for the UI thread run when its event loop next turns."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)

"""The task statuses (the lines of the network's event log) sent in order, off the task's path.

A status is cosmetic: nothing waits on it and a lost one fails nothing. Yet the combiner (one
Python process) answers it late while it is busy: measured in a `fedgui run` session with 1 GB
models, the status sent right after a model download took 0.05-0.8 s while the step waited to
start, and the one after a model update 0.2-2.6 s. Here one thread sends them one after another
in the order they were given, so the event log reads as before and the task goes on.

The exception is a task's first status ("Received request"): sent while a model download
streams, the combiner answers it only after the download, and the download itself gets slower
(tried and measured, docs/performance.md). That one is sent with :meth:`send_and_wait`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from fedgui.core.protocol.generated import fedn_pb2 as pb

log = logging.getLogger(__name__)

#: How long closing waits for statuses still queued, so a stop is not held up by a combiner
#: that no longer answers.
CLOSE_WAIT_SECONDS = 2.0


class StatusSender:
    def __init__(self, send: Callable[[pb.Status], None]) -> None:
        """``send`` delivers one status; it logs a refused one itself (statuses are cosmetic)."""
        self._send = send
        # One worker: statuses leave in the order they were queued.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="task-statuses")
        self._last: Future[None] | None = None

    def send(self, status: pb.Status) -> None:
        """Queue ``status``; returns at once."""
        try:
            self._last = self._pool.submit(self._deliver, status)
        except RuntimeError:  # closed: the session is ending, the status is not needed
            log.debug("status not sent, closed: %s", status.status)

    def send_and_wait(self, status: pb.Status) -> None:
        """Send ``status`` after every queued one, and return once it went (or failed)."""
        self.send(status)
        self._wait_for_last(None)

    def close(self) -> None:
        """Give queued statuses a moment to go, then drop the rest."""
        self._wait_for_last(CLOSE_WAIT_SECONDS)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _deliver(self, status: pb.Status) -> None:
        try:
            self._send(status)
        except Exception:  # a bug, not a refused status: say so, and send the next one
            log.exception("sending the status %r failed", status.status)

    def _wait_for_last(self, timeout: float | None) -> None:
        last = self._last
        if last is None:
            return
        try:
            last.result(timeout)
        except FutureTimeout:
            log.debug("statuses still queued after %.0f s; not waiting for them", timeout or 0)

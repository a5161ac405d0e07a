"""The session's inbox: what the person asks for, and what the session's helper threads report.

Every control (pause, resume, approve, new token, retry, stop) is a small request put into the
inbox; the caller (the UI thread, Ctrl-C) returns at once and the session thread carries the
request out at its next wait. The session's own helper threads (the task stream reader, the task
runner, the package watcher) report through the same inbox, so one thread decides everything
and no state is changed from two places.

``stop_requested`` is also a flag, set at once by the caller: blocking work that cannot read the
inbox (an environment build, a ``startup`` step, the controller's "no package yet" wait) polls it.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass
from typing import Any

# ---- requests from the person ----------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    """Finish the running task, then disconnect until Resume."""


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class Stop:
    pass


@dataclass(frozen=True)
class Approve:
    """The person approved the package with this checksum (the one under review, or another),
    with what they allowed it beyond the isolation (a PackagePermissions; None: nothing new) and
    whether they agreed to run it unisolated where this computer cannot isolate it."""

    checksum: str
    permissions: Any = None
    run_unisolated: bool = False


@dataclass(frozen=True)
class Reject:
    """The person rejected the package under review."""


@dataclass(frozen=True)
class NewToken:
    token: str


@dataclass(frozen=True)
class Retry:
    """Leave an error or back-off wait and try again now."""


Request = Pause | Resume | Stop | Approve | Reject | NewToken | Retry

# ---- reports from the session's own threads ---------------------------------------------------
# ``source`` is the combiner link that sent them: a report from a link already closed is stale.


@dataclass(frozen=True)
class TaskArrived:
    source: object
    request: Any


@dataclass(frozen=True)
class TaskWorking:
    """The task thread started the entry point (``detail``: "training round 3")."""

    source: object
    detail: str


@dataclass(frozen=True)
class TaskDone:
    source: object
    error: BaseException | None = None  # only a bug in the task code; task failures are reported


@dataclass(frozen=True)
class StreamEnded:
    source: object
    error: BaseException | None = None  # the gRPC error that ended it; None for a clean end


@dataclass(frozen=True)
class PackageChanged:
    """The package watcher saw the network publish another compute package."""


class SessionInbox:
    """A thread-safe queue of requests and reports, plus the stop flag."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._items: collections.deque[object] = collections.deque()
        self.stop_requested = False

    def put(self, item: object) -> None:
        """Never blocks (the UI thread calls it)."""
        with self._changed:
            if isinstance(item, Stop):
                self.stop_requested = True
            self._items.append(item)
            self._changed.notify_all()

    def get(self, timeout: float | None) -> object | None:
        """The next item, or None when ``timeout`` seconds passed without one (None: no limit)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while not self._items:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._changed.wait(remaining)
            return self._items.popleft()

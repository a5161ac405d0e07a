"""Typed events that the core emits and the GUI / headless console observe.

Producers (runner, session engine, transfers) call an :data:`EventSink`; they never know who
listens. :class:`EventBus` fans one stream of events out to several observers and is safe to
call from any thread: observers run on the emitting thread, so a GUI observer must hand the
event to its own thread (a queued signal) and return at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fedgui.core.session.states import SessionState

if TYPE_CHECKING:  # annotations only: events stay cheap to import
    from fedgui.core.errors import FedguiError
    from fedgui.core.package.cache import PreparedPackage
    from fedgui.core.profile import Profile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """Base class: every event knows when it happened (seconds since the epoch)."""

    timestamp: float = field(default_factory=time.time, kw_only=True)


@dataclass(frozen=True)
class LogLine(Event):
    """One line of output. ``source`` names who wrote it: an entry point ("train"), "pip",
    "client" (fedgui itself) ...; ``stream`` is "stdout", "stderr" or "client"."""

    source: str
    stream: str
    text: str
    level: str = "info"  # "debug" | "info" | "warning" | "error"
    #: Technical facts behind a line that reports a problem (an address, a status code), for
    #: whoever shows Details: ``FedguiError.details`` of the error the line tells about.
    details: str = ""


def client_line(text: str, level: str = "info", details: str = "") -> LogLine:
    """A line fedgui itself says (as opposed to the package's code or pip)."""
    return LogLine(source="client", stream="client", text=text, level=level, details=details)


@dataclass(frozen=True)
class MetricReported(Event):
    """Live metric values, e.g. from a ``FEDGUI_METRIC {...}`` line of an entry point."""

    values: dict[str, float]
    step: int | None
    source: str


@dataclass(frozen=True)
class TransferProgress(Event):
    """Bytes moved so far for a download or upload; ``total`` is None when unknown."""

    what: str  # e.g. "package", "model download", "model upload"
    done: int
    total: int | None


@dataclass(frozen=True)
class StateChanged(Event):
    """The session engine moved to a new state. ``detail`` is a short plain-language line
    ("training round 7", "reconnecting in 8 s"); ``error`` carries the user-facing reason for
    error states."""

    state: SessionState
    detail: str = ""
    error: FedguiError | None = None


@dataclass(frozen=True)
class NetworkDetails:
    """Where this client takes part, for a Details view (never for default-visible text)."""

    combiner: str  # the combiner's name or host
    address: str  # host:port the client dials
    encrypted: bool  # TLS on the combiner channel (else the token travels in plain text)


@dataclass(frozen=True)
class Assigned(Event):
    """The controller assigned this client to a combiner."""

    network: NetworkDetails


@dataclass(frozen=True)
class ReviewNeeded(Event):
    """A compute package waits for the person's approval; nothing of it has run.

    ``previous`` is the version this profile approved last (for "what changed"), when it is
    still unpacked in the cache; ``previous_checksum`` names it even when it is not."""

    package: PreparedPackage
    previous: PreparedPackage | None
    previous_checksum: str | None


@dataclass(frozen=True)
class ProfileSaved(Event):
    """The session saved its profile (an approval); views replace their copy with this one."""

    profile: Profile


@dataclass(frozen=True)
class TaskStarted(Event):
    task_id: str
    kind: str  # "train" | "validate" | "predict"
    round_id: str | None
    model_id: str
    session_id: str | None


@dataclass(frozen=True)
class TaskFinished(Event):
    task_id: str
    kind: str
    status: str  # "ok" | "failed" | "cancelled"
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ResourceUsage(Event):
    """CPU and memory of the running entry point (its whole process tree)."""

    cpu_percent: float
    rss_bytes: int


EventSink = Callable[[Event], None]


def ignore_event(event: Event) -> None:
    """An :data:`EventSink` that drops everything (for callers that do not observe)."""


class EventBus:
    """Fan out events to any number of observers; thread-safe."""

    def __init__(self) -> None:
        self._observers: list[EventSink] = []
        self._lock = threading.Lock()

    def subscribe(self, observer: EventSink) -> Callable[[], None]:
        """Add ``observer``; returns a function that removes it again."""
        with self._lock:
            self._observers.append(observer)

        def unsubscribe() -> None:
            with self._lock:
                if observer in self._observers:
                    self._observers.remove(observer)

        return unsubscribe

    def emit(self, event: Event) -> None:
        with self._lock:
            observers = list(self._observers)
        for observer in observers:
            try:
                observer(event)
            except Exception:  # an observer's bug must not stop training
                log.exception("event observer failed on %r", event)

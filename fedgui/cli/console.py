"""Readable console output for the headless mode: one line per event, prefixed by its source.

Every line starts with the time, continuation lines of a long message included. fedgui's own
messages and states are said once: while the session waits or reconnects, the same words (give or
take a number, "reconnecting in 4 s") are not printed again, until something else happens (work
arrives, the state changes for real) or ``REPEAT_AFTER_SECONDS`` have passed.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from typing import TextIO

from fedgui.core.errors import FedguiError
from fedgui.core.events import (
    Event,
    LogLine,
    MetricReported,
    StateChanged,
    TaskFinished,
    TaskStarted,
    TransferProgress,
)
from fedgui.core.session.states import SessionState, describe

#: A repeated message is printed again after this long, as a sign of life.
REPEAT_AFTER_SECONDS = 600.0
#: States that mean the session got somewhere: repeated messages may be said again after them.
_PROGRESS_STATES = {SessionState.READY, SessionState.WORKING, SessionState.STOPPED}
_NUMBER = re.compile(r"\d+(\.\d+)?")
#: How far a line that belongs to the state line above it is indented.
_CONTINUATION = " " * 9


def _clock(timestamp: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(timestamp))


def stamped(text: str, timestamp: float | None = None) -> str:
    """``text`` with the time in front of every line."""
    clock = _clock(time.time() if timestamp is None else timestamp)
    return "\n".join(f"{clock} {line}" for line in text.split("\n"))


def print_stamped(text: str, file: TextIO | None = None) -> None:
    """For the command's own messages (not events): timestamped like everything else."""
    print(stamped(text), file=file or sys.stderr, flush=True)


class StampedLogHandler(logging.Handler):
    """fedgui's internal warnings (a pruned cache that could not be deleted, an approval not
    saved) on stderr, with the time like every other line, instead of Python's bare fallback."""

    def __init__(self, file: TextIO | None = None) -> None:
        super().__init__(logging.WARNING)
        self._file = file

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + logging.Formatter().formatException(record.exc_info)
            print_stamped(f"fedgui: {record.levelname.lower()}: {text}", self._file)
        except Exception:  # a broken stderr must not take the session down
            self.handleError(record)


def send_internal_warnings_to_stderr() -> None:
    """Once per process: fedgui's loggers write through :class:`StampedLogHandler`."""
    logger = logging.getLogger("fedgui")
    if not any(isinstance(h, StampedLogHandler) for h in logger.handlers):
        logger.addHandler(StampedLogHandler())


def details_block(details: str, indent: str = "  ") -> str | None:
    """Technical details (an address, a status code: what the desktop app keeps behind
    "Details") as lines under "Details:", indented by ``indent``; None when there are none.

    A server's operator has no Details expander, and these facts are what they act on."""
    if not details.strip():
        return None
    lines = [f"{indent}Details:", *(f"{indent}  {line}" for line in details.strip().splitlines())]
    return "\n".join(lines)


def error_details(error: BaseException | None, indent: str = "  ") -> str | None:
    """:func:`details_block` of a fedgui error's ``details``; None for other errors."""
    return details_block(error.details, indent) if isinstance(error, FedguiError) else None


def print_error(error: BaseException, file: TextIO | None = None) -> None:
    """The command's own error message (``fedgui: ...``), its details indented below it."""
    details = error_details(error)
    print_stamped(f"fedgui: {error}" + (f"\n{details}" if details else ""), file=file)


def _state_words(event: StateChanged) -> str:
    words = describe(event.state)
    if event.detail and event.detail != words:
        return f"{words} ({event.detail})"
    return words


def _event_details(event: Event) -> str | None:
    """The details behind a state's error or a line that reports a problem, for stderr."""
    if isinstance(event, StateChanged):
        return error_details(event.error, _CONTINUATION)
    if isinstance(event, LogLine):
        return details_block(event.details, _CONTINUATION)
    return None


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _fmt_value(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class ConsoleRenderer:
    """An event observer that prints to a text stream. Thread-safe (one lock per line)."""

    def __init__(
        self, out: TextIO | None = None, show_progress: bool = True, err: TextIO | None = None
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr  # an error's details go where the command's errors go
        self.show_progress = show_progress
        self._lock = threading.Lock()
        self._last_progress: dict[str, float] = {}
        self._said: dict[str, float] = {}  # fedgui's own messages (numbers blanked) → when printed

    def __call__(self, event: Event) -> None:
        line = self.format(event)
        if line is None:
            return
        with self._lock:
            if self._is_repeat(event, line):
                return
            print(stamped(line, event.timestamp), file=self.out, flush=True)
            details = _event_details(event)
            if details:
                print(stamped(details, event.timestamp), file=self.err, flush=True)

    def _is_repeat(self, event: Event, line: str) -> bool:
        if isinstance(event, TaskStarted) or (
            isinstance(event, StateChanged) and event.state in _PROGRESS_STATES
        ):
            self._said.clear()
            return False
        own = isinstance(event, StateChanged) or (isinstance(event, LogLine) and event.source == "client")
        if not own:
            return False
        key = _NUMBER.sub("#", line)
        now = time.monotonic()
        said = self._said.get(key)
        if said is not None and now - said < REPEAT_AFTER_SECONDS:
            return True
        self._said[key] = now
        return False

    def format(self, event: Event) -> str | None:
        if isinstance(event, StateChanged):
            text = f"state   {_state_words(event)}"
            if event.error is not None and str(event.error) not in text:
                text += f"\n{_CONTINUATION}{event.error}"
            return text
        if isinstance(event, LogLine):
            prefix = "fedgui" if event.source == "client" else f"{event.source}:{event.stream}"
            marker = {"warning": "warning: ", "error": "error: "}.get(event.level, "")
            return f"[{prefix}] {marker}{event.text}"
        if isinstance(event, TaskStarted):
            where = f" round {event.round_id}" if event.round_id else ""
            return f"task    {event.kind}{where} started (model {event.model_id})"
        if isinstance(event, TaskFinished):
            if event.status == "ok":
                took = sum(event.timings.values())
                shown = ", ".join(
                    f"{k}={_fmt_value(v)}"
                    for k, v in list(event.metrics.items())[:6]
                    if not isinstance(v, dict)
                )
                return f"task    {event.kind} finished in {took:.1f} s" + (f" ({shown})" if shown else "")
            return f"task    {event.kind} {event.status}: {event.error}"
        if isinstance(event, MetricReported):
            values = ", ".join(f"{k}={_fmt_value(v)}" for k, v in event.values.items())
            step = f" step {event.step}" if event.step is not None else ""
            return f"metric  {event.source}{step}: {values}"
        if isinstance(event, TransferProgress):
            return self._progress_line(event)
        return None

    def _progress_line(self, event: TransferProgress) -> str | None:
        if not self.show_progress:
            return None
        finished = event.total is not None and event.done >= event.total
        now = time.monotonic()
        if not finished and now - self._last_progress.get(event.what, 0.0) < 2.0:
            return None
        self._last_progress[event.what] = now
        if event.total:
            return f"transfer {event.what}: {human_size(event.done)} of {human_size(event.total)}"
        return f"transfer {event.what}: {human_size(event.done)}"

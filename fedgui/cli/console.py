"""Readable console output for the headless mode: one line per event, prefixed by its source."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from fedgui.core.events import (
    Event,
    LogLine,
    MetricReported,
    StateChanged,
    TaskFinished,
    TaskStarted,
    TransferProgress,
)
from fedgui.core.session.states import describe


def _clock(timestamp: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(timestamp))


def _state_words(event: StateChanged) -> str:
    words = describe(event.state)
    if event.detail and event.detail != words:
        return f"{words} ({event.detail})"
    return words


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

    def __init__(self, out: TextIO | None = None, show_progress: bool = True) -> None:
        self.out = out or sys.stdout
        self.show_progress = show_progress
        self._lock = threading.Lock()
        self._last_progress: dict[str, float] = {}

    def __call__(self, event: Event) -> None:
        line = self.format(event)
        if line is None:
            return
        with self._lock:
            print(f"{_clock(event.timestamp)} {line}", file=self.out, flush=True)

    def format(self, event: Event) -> str | None:
        if isinstance(event, StateChanged):
            text = f"state   {_state_words(event)}"
            if event.error is not None and str(event.error) not in text:
                text += f"\n         {event.error}"
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

"""Every event a session emits, with waits: the one recorder of the session tests, unit
(tests/unit/session_fakes.py's fake controller) and interop (a real FEDn network) alike."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fedgui.core.events import Event, LogLine, StateChanged, TaskFinished
from fedgui.core.session.states import SessionState


@dataclass
class Recorder:
    """An event observer (subscribe it to a session's bus); thread-safe."""

    events: list[Event] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # time.monotonic() of each event
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self.times.append(time.monotonic())
            self._cond.notify_all()

    def of(self, kind: type) -> list:
        with self._cond:
            return [e for e in self.events if isinstance(e, kind)]

    def finished(self, kind: str | None = None, status: str | None = None) -> list[TaskFinished]:
        """The network's tasks that finished, of ``kind`` and with ``status`` where given. The
        local preview of the first global model (kind "preview", run before the first training)
        is left out unless asked for by its kind."""
        return [
            e
            for e in self.of(TaskFinished)
            if (e.kind == kind if kind is not None else e.kind != "preview")
            and (status is None or e.status == status)
        ]

    def states(self) -> list[SessionState]:
        return [e.state for e in self.of(StateChanged)]

    def stamps(self, state: SessionState) -> list[float]:
        """When the session entered ``state``, each time."""
        with self._cond:
            pairs = zip(self.events, self.times, strict=True)
            return [t for e, t in pairs if isinstance(e, StateChanged) and e.state is state]

    def log(self) -> str:
        """Every log line, with who wrote it: ``[train:stdout] ...``, ``[client:client] ...``."""
        return "\n".join(f"[{e.source}:{e.stream}] {e.text}" for e in self.of(LogLine))

    def wait_for(self, predicate: Callable[[], object], what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out after {timeout:.0f} s waiting for {what}; "
                        f"states: {[s.value for s in self.states()][-15:]}\nlog:\n{self.log()[-3000:]}"
                    )
                self._cond.wait(min(remaining, 0.2))

    def wait_for_state(self, state: SessionState | str, count: int = 1, timeout: float = 20.0) -> None:
        """Until the session has entered ``state`` (a member or its value) ``count`` times."""
        state = SessionState(state)
        self.wait_for(lambda: self.states().count(state) >= count, f"{state.value} x{count}", timeout)

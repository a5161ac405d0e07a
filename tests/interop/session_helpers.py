"""Helpers for driving fedgui's session engine against a real FEDn network in tests."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from fedgui.core.events import Event, LogLine, StateChanged, TaskFinished
from fedgui.core.history.store import HistoryStore
from fedgui.core.profile import Profile
from fedgui.core.session.backoff import Backoff
from fedgui.core.session.engine import Session, SessionTiming
from tests.fednet.packages import write_package_archive as build_package  # noqa: F401 - re-exported


@dataclass
class Recorder:
    """Collects every event a session emits, thread-safe, with waits for tests."""

    events: list[Event] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def states(self) -> list[str]:
        with self._cond:
            return [e.state for e in self.events if isinstance(e, StateChanged)]

    def finished_tasks(self, kind: str | None = None, status: str | None = None) -> list[TaskFinished]:
        with self._cond:
            return [
                e
                for e in self.events
                if isinstance(e, TaskFinished)
                and (kind is None or e.kind == kind)
                and (status is None or e.status == status)
            ]

    def log_text(self) -> str:
        with self._cond:
            return "\n".join(
                f"[{e.source}:{e.stream}] {e.text}" for e in self.events if isinstance(e, LogLine)
            )

    def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out after {timeout:.0f} s waiting for {what}; states: {self.states()[-15:]}\n"
                        f"log:\n{self.log_text()[-3000:]}"
                    )
                self._cond.wait(min(remaining, 0.5))

    def wait_for_state(self, state: str, timeout: float = 60.0) -> None:
        self.wait_for(
            lambda: state in [e.state for e in self.events if isinstance(e, StateChanged)], timeout, state
        )


@dataclass
class RunningClient:
    session: Session
    recorder: Recorder
    profile: Profile
    history: HistoryStore

    def stop(self) -> None:
        self.session.stop_and_wait(timeout=30)
        self.history.close()


def fast_timing() -> SessionTiming:
    """Reconnect quickly in tests; the heartbeat stays at FEDn's 2 s."""
    return SessionTiming(backoff=Backoff(initial=0.5, factor=2.0, maximum=4.0, jitter=0.1), healthy_after=5.0)


def start_client(
    network,
    name: str,
    work: Path,
    *,
    token: str | None = None,
    auto_approve: bool = True,
    extra_env: dict[str, str] | None = None,
    approved: list[str] | None = None,
    pin: str | None = None,
    controller_url: str | None = None,
    timing: SessionTiming | None = None,
) -> RunningClient:
    data = work / f"{name}-data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "samples.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    profile = Profile.new(
        display_name=name, controller_url=controller_url or network.api_url, client_name=name
    )
    profile.package_checksum_pin = pin
    profile.data_folder = data
    profile.extra_env = dict(extra_env or {})
    profile.approved_checksums = list(approved or [])
    history = HistoryStore(work / f"{name}-history.sqlite3")
    recorder = Recorder()
    session = Session(
        profile,
        lambda: token,
        history=history,
        auto_approve=auto_approve,
        timing=timing or fast_timing(),
        work_dir=work / f"{name}-work",
    )
    session.bus.subscribe(recorder)
    session.start()
    return RunningClient(session, recorder, profile, history)


def sleep_mark(base: int) -> str:
    """A `sleep` duration no other process has: a test package's leftover processes carry it on
    their command line, so the test finds them from outside, also in the sandbox's PID namespace
    (where pid files written into the read-only data folder are not possible)."""
    return f"{base + secrets.randbelow(10**6) / 10**7:.7f}"


def marked_processes(mark: str) -> list[psutil.Process]:
    """Living processes whose command line holds ``mark`` (see :func:`sleep_mark`)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if mark in (proc.info["cmdline"] or []) and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found

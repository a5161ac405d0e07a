"""Helpers for driving fedgui's session engine against a real FEDn network in tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import psutil

from fedgui.core.history.store import HistoryStore
from fedgui.core.profile import Profile
from fedgui.core.session.backoff import Backoff
from fedgui.core.session.engine import Session, SessionTiming
from tests.event_recorder import Recorder
from tests.fednet.packages import write_package_archive as build_package  # noqa: F401 - re-exported


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

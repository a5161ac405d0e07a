"""Reconnecting (issue 11 §3): the back-off starts small again after any healthy connection, and
a client backing off notices at once when the server that was down is back."""

from __future__ import annotations

import socket
import time

from fedgui.core.events import StateChanged
from fedgui.core.history.store import HistoryStore
from fedgui.core.profile import Profile
from fedgui.core.session.backoff import Backoff, ReturnWatch, reset_after_healthy
from fedgui.core.session.engine import Session, SessionTiming


def _advanced(times: int) -> Backoff:
    backoff = Backoff(initial=1.0, factor=2.0, maximum=60.0, jitter=0.0)
    for _ in range(times):
        backoff.next_delay()
    return backoff


def test_a_connection_that_lived_long_and_died_of_an_error_starts_its_retries_small():
    backoff = _advanced(6)  # earlier outages: the next delay would be 60 s
    reset_after_healthy(backoff, lasted=15 * 60, healthy_after=20)
    assert backoff.next_delay() == 1.0


def test_a_connection_that_broke_at_once_keeps_backing_off():
    backoff = _advanced(3)
    reset_after_healthy(backoff, lasted=2.0, healthy_after=20)
    assert backoff.next_delay() == 8.0
    reset_after_healthy(backoff, lasted=None, healthy_after=20)  # never got a stream
    assert backoff.next_delay() == 16.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_return_watch_needs_to_see_the_port_closed_then_open():
    port = _free_port()
    watch = ReturnWatch("127.0.0.1", port, timeout=0.5)
    assert not watch.is_back()  # refused: down
    with socket.create_server(("127.0.0.1", port)):
        assert watch.is_back()
    with socket.create_server(("127.0.0.1", 0)) as always_up:
        steady = ReturnWatch("127.0.0.1", always_up.getsockname()[1], timeout=0.5)
        assert not steady.is_back()  # open all along: ends no wait early


def test_a_session_backing_off_from_a_down_controller_is_back_within_seconds_of_its_return(tmp_path):
    """A real session and real sockets: the controller's port refuses, the back-off is 30 s, then
    something listens on the port again: the session tries again about a second later."""
    port = _free_port()
    profile = Profile.new(display_name="outage", controller_url=f"http://127.0.0.1:{port}")
    timing = SessionTiming(backoff=Backoff(initial=30.0, maximum=30.0, jitter=0.0), return_probe_interval=0.2)
    history = HistoryStore(tmp_path / "history.sqlite3")
    session = Session(profile, lambda: None, history=history, timing=timing, work_dir=tmp_path / "work")
    attempts: list[float] = []
    session.bus.subscribe(
        lambda e: (
            attempts.append(time.monotonic())
            if isinstance(e, StateChanged) and e.state.value == "connecting_controller"
            else None
        )
    )
    session.start()
    try:
        deadline = time.monotonic() + 10
        while not (attempts and session.state.value == "reconnecting") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert session.state.value == "reconnecting"
        time.sleep(1.0)  # the controller stays down for a while
        with socket.create_server(("127.0.0.1", port)):
            back = time.monotonic()
            while len(attempts) < 2 and time.monotonic() < back + 10:
                time.sleep(0.05)
        assert len(attempts) >= 2, "no new attempt after the controller came back"
        print(f"\nback {attempts[1] - back:.2f} s after the port opened (back-off was 30 s)")
        assert attempts[1] - back < 2.0
    finally:
        session.stop_and_wait(10)
        history.close()

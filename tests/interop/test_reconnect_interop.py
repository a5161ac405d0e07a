"""Reconnecting to a real FEDn 0.33 network (issue 11 §3): after a healthy connection dies of an
error the retries start small again, and a client is back within seconds of a server's return.
The figures printed here are the ones in the issue's closing table."""

from __future__ import annotations

import re
import time

from fedgui.core.session.backoff import Backoff
from fedgui.core.session.engine import SessionTiming
from tests.interop.session_helpers import start_client


def _timing(earlier_failures: int = 0) -> SessionTiming:
    backoff = Backoff(initial=1.0, factor=2.0, maximum=60.0, jitter=0.0)
    for _ in range(earlier_failures):  # outages earlier in the session's life
        backoff.next_delay()
    return SessionTiming(backoff=backoff, healthy_after=3.0)


def _delays(client) -> list[int]:
    return [int(d) for d in re.findall(r"reconnecting in (\d+) s", client.recorder.log())]


def test_a_crashed_combiner_after_a_healthy_connection_is_retried_at_once_and_rejoined_quickly(
    fresh_prepared_network, tmp_path
):
    network = fresh_prepared_network
    client = start_client(network, "rejoiner", tmp_path, timing=_timing(earlier_failures=6))
    try:
        client.recorder.wait_for_state("ready", timeout=60)
        time.sleep(4)  # longer than healthy_after
        network.stop_combiner(crash=True)  # the stream breaks with an error, not a clean end
        client.recorder.wait_for(lambda: _delays(client), "a reconnect delay", timeout=30)
        assert _delays(client)[0] <= 1, client.recorder.log()[-2000:]  # 60 s before the fix
        time.sleep(8)  # the combiner stays away a while; the client backs off meanwhile
        ready_before = client.recorder.states().count("ready")
        network.start_combiner()
        back = time.monotonic()
        client.recorder.wait_for_state("ready", count=ready_before + 1, timeout=60)  # ready again
        took = time.monotonic() - back
        print(f"\nback {took:.1f} s after the combiner was ready again (delays {_delays(client)})")
        assert took < 8
    finally:
        client.stop()


def test_a_controller_down_at_start_is_joined_within_seconds_of_its_return(fresh_prepared_network, tmp_path):
    network = fresh_prepared_network
    network.stop_controller()
    client = start_client(network, "early-bird", tmp_path, timing=_timing())
    try:
        time.sleep(20)  # retries at 1, 3, 7, 15 s; the next would come at 31 s
        assert "ready" not in client.recorder.states()
        network.start_controller()
        back = time.monotonic()
        client.recorder.wait_for_state("ready", timeout=60)
        took = time.monotonic() - back
        print(f"\nback {took:.1f} s after the controller was up again (delays {_delays(client)})")
        assert took < 8
    finally:
        client.stop()

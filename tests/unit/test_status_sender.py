"""Task statuses leave in order on a thread of their own; a slow or failing one holds up nothing."""

from __future__ import annotations

import threading
import time

from fedgui.core.protocol.generated import fedn_pb2 as pb
from fedgui.core.session import status_sender
from fedgui.core.session.status_sender import StatusSender


def status(text: str) -> pb.Status:
    return pb.Status(status=text)


class SlowCombiner:
    """Answers each status once ``release`` is set, and keeps what arrived, in order."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.arrived: list[str] = []

    def send(self, message: pb.Status) -> None:
        self.release.wait(10)
        self.arrived.append(message.status)


def test_send_returns_at_once_and_statuses_arrive_in_order():
    combiner = SlowCombiner()
    sender = StatusSender(combiner.send)
    started = time.monotonic()
    for text in ("received", "processing", "completed"):
        sender.send(status(text))
    assert time.monotonic() - started < 1.0  # nothing waited for the combiner
    assert combiner.arrived == []
    combiner.release.set()
    sender.send_and_wait(status("next task received"))
    assert combiner.arrived == ["received", "processing", "completed", "next task received"]
    sender.close()


def test_a_failing_status_is_logged_and_the_next_one_still_goes(caplog):
    arrived: list[str] = []

    def send(message: pb.Status) -> None:
        if message.status == "broken":
            raise ValueError("a bug")
        arrived.append(message.status)

    sender = StatusSender(send)
    sender.send(status("broken"))
    sender.send_and_wait(status("fine"))
    assert arrived == ["fine"]
    assert "broken" in caplog.text
    sender.close()


def test_closing_waits_briefly_then_drops_what_is_still_queued(monkeypatch):
    monkeypatch.setattr(status_sender, "CLOSE_WAIT_SECONDS", 0.2)
    combiner = SlowCombiner()  # never answers until released
    sender = StatusSender(combiner.send)
    sender.send(status("stuck"))
    sender.send(status("queued behind it"))
    started = time.monotonic()
    sender.close()
    assert time.monotonic() - started < 2.0
    combiner.release.set()
    sender.send(status("after close"))  # ignored, no error
    time.sleep(0.2)
    assert "queued behind it" not in combiner.arrived and "after close" not in combiner.arrived

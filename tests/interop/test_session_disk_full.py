"""A full disk under the history and the work folder, in a real session (issue 11 §5): the task
fails with a message that names what could not be written and where, nothing is left
'running', the client stays connected and trains again once there is room."""

from __future__ import annotations

import sys

import pytest

from fedgui.core.events import StateChanged
from fedgui.core.history.store import HistoryStore
from tests.interop.session_helpers import start_client
from tests.small_disk import fill, small_disk

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mounts a tmpfs")


def test_full_disk_is_said_in_words_and_the_client_goes_on_when_there_is_room(
    fresh_prepared_network, tmp_path
):
    network = fresh_prepared_network
    with small_disk(tmp_path / "disk", size_mb=16) as disk:
        client = start_client(network, "cramped", disk)  # its history and work folder on the small disk
        try:
            client.recorder.wait_for_state("ready", timeout=90)
            network.wait_clients_online(1, timeout=30)
            filler = fill(disk)
            first = network.start_session(rounds=1, round_timeout=20, min_clients=1)
            client.recorder.wait_for(
                lambda: "no space left on the disk" in client.recorder.log().lower(),
                "the disk-full message",
                timeout=60,
            )
            network.wait_session_finished(first, timeout=90)
            text = client.recorder.log()
            assert str(disk) in text  # where
            assert "Traceback" not in text and "press Retry" not in text
            states = [e.state.value for e in client.recorder.events if isinstance(e, StateChanged)]
            assert "error" not in states, states  # a task failed; the client did not
            filler.unlink()  # room again
            second = network.start_session(rounds=1, round_timeout=60, min_clients=1)
            network.wait_session_finished(second, timeout=90)
            client.recorder.wait_for(
                lambda: client.recorder.finished("train", "ok"), "a train that works", timeout=30
            )
        finally:
            client.stop()
        with HistoryStore(disk / "cramped-history.sqlite3") as history:
            statuses = [task.status for task in history.tasks(kind="train")]
        assert "running" not in statuses, statuses
        assert "ok" in statuses

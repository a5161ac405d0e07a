"""A task whose fedgui process died is marked 'interrupted' the next time the history opens."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from fedgui.core.history.records import INTERRUPTED_MESSAGE
from fedgui.core.history.store import HistoryStore

CHILD = textwrap.dedent(
    """
    import sys, time
    from fedgui.core.history.store import HistoryStore

    store = HistoryStore(sys.argv[1])
    task_id = store.start_task("profile", "train", round_id="r1", model_id="m1")
    log = store.open_task_log(task_id)
    log.write_line("epoch 1 of 10")
    print(task_id, flush=True)
    time.sleep(120)  # killed long before this ends
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_task_of_a_killed_process_becomes_interrupted(tmp_path):
    path = tmp_path / "history.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        task_id = child.stdout.readline().strip()
        assert task_id, "the child process did not start a task"
        # While the owner lives, opening the history must leave its task alone.
        with HistoryStore(path) as history:
            assert history.recovered_interrupted == 0
            assert history.task(task_id).status == "running"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    with HistoryStore(path) as history:
        assert history.recovered_interrupted == 1
        record = history.task(task_id)
        assert record.status == "interrupted"
        assert record.error == INTERRUPTED_MESSAGE
        assert record.finished_at is not None
        # Whatever the task logged before the kill is on disk.
        assert "epoch 1 of 10" in record.log_path.read_text(encoding="utf-8")


def test_reused_pid_does_not_keep_a_task_running(tmp_path):
    """Our own pid with another start time stands for an old fedgui whose pid was reused."""
    path = tmp_path / "history.sqlite3"
    with HistoryStore(path) as history:
        task_id = history.start_task("p", "validate")
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "UPDATE tasks SET status = 'running', finished_at = NULL, owner_pid = ?, owner_started_at = 1.0",
            (os.getpid(),),
        )
    connection.close()
    with HistoryStore(path) as history:
        assert history.task(task_id).status == "interrupted"


def test_running_task_of_a_live_process_is_left_alone(tmp_path):
    path = tmp_path / "history.sqlite3"
    first = HistoryStore(path)
    try:
        task_id = first.start_task("p", "train")
        with HistoryStore(path) as second:
            assert second.recovered_interrupted == 0
            assert second.task(task_id).status == "running"
        first.finish_task(task_id, "ok")
    finally:
        first.close()

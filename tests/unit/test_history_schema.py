"""Schema versions: upgrading an old file, refusing a newer one, refusing a damaged one."""

from __future__ import annotations

import sqlite3

import pytest

from fedgui.core.history.schema import CURRENT_VERSION, HistoryTooNew, HistoryUnreadable, upgrade
from fedgui.core.history.store import HistoryStore

# The version 1 schema exactly as the first release wrote it. Written out here rather than taken
# from MIGRATIONS so that editing a released step by mistake makes this test fail.
VERSION_1_SCHEMA = """
CREATE TABLE tasks (
    id TEXT PRIMARY KEY, profile_id TEXT NOT NULL, kind TEXT NOT NULL, session_id TEXT,
    round_id TEXT, model_id TEXT, package_checksum TEXT, started_at REAL NOT NULL,
    finished_at REAL, status TEXT NOT NULL, error TEXT, timings_json TEXT, model_update_id TEXT,
    owner_pid INTEGER, owner_started_at REAL, log_path TEXT
);
CREATE TABLE metrics (
    id INTEGER PRIMARY KEY, task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    source TEXT NOT NULL, key TEXT NOT NULL, value_kind TEXT NOT NULL, value_real REAL,
    value_text TEXT, step INTEGER, recorded_at REAL NOT NULL
);
INSERT INTO tasks VALUES ('t1', 'p', 'validate', 's', 'r1', 'm', 'abc', 100.0, 110.0, 'ok', NULL,
    '{"exec": 10.0}', NULL, 1, 1.0, 'p/t1.log');
INSERT INTO metrics (task_id, source, key, value_kind, value_real, value_text, step, recorded_at)
    VALUES ('t1', 'validation', 'accuracy', 'number', 0.75, NULL, NULL, 105.0);
PRAGMA user_version = 1;
"""


def _version(path) -> int:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA user_version").fetchone()[0]
    finally:
        connection.close()


def _index_names(path) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
        return {name for (name,) in rows if not name.startswith("sqlite_autoindex")}
    finally:
        connection.close()


def test_new_database_is_at_the_current_version(tmp_path):
    path = tmp_path / "h.sqlite3"
    HistoryStore(path).close()
    assert _version(path) == CURRENT_VERSION >= 2


def test_version_1_database_made_by_hand_is_upgraded_and_keeps_its_rows(tmp_path):
    path = tmp_path / "h.sqlite3"
    connection = sqlite3.connect(path)
    connection.executescript(VERSION_1_SCHEMA)
    connection.close()
    assert _version(path) == 1

    with HistoryStore(path) as history:
        record = history.task("t1")
        assert record.status == "ok" and record.timings == {"exec": 10.0}
        assert [p.value for p in history.metric_series("p", "accuracy")] == [0.75]
        new_task = history.start_task("p", "train")
        assert history.task(new_task).status == "running"

    assert _version(path) == CURRENT_VERSION
    assert "tasks_by_profile_time" in _index_names(path)


def test_reopening_a_current_database_changes_nothing(tmp_path):
    path = tmp_path / "h.sqlite3"
    with HistoryStore(path) as history:
        task_id = history.start_task("p", "train")
        history.finish_task(task_id, "ok")
    with HistoryStore(path) as history:
        assert history.task(task_id).status == "ok"
    assert _version(path) == CURRENT_VERSION


def test_newer_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "h.sqlite3"
    connection = sqlite3.connect(path)
    connection.executescript(
        f"CREATE TABLE future_things (x TEXT); PRAGMA user_version = {CURRENT_VERSION + 5};"
    )
    connection.close()
    before = path.read_bytes()

    with pytest.raises(HistoryTooNew) as caught:
        HistoryStore(path)

    message = str(caught.value)
    assert "newer version of fedgui" in message and "Update fedgui" in message
    assert path.read_bytes() == before  # not even switched to WAL
    assert _version(path) == CURRENT_VERSION + 5
    connection = sqlite3.connect(path)
    try:
        tables = {n for (n,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        connection.close()
    assert tables == {"future_things"}


def test_a_file_that_is_not_a_database_gives_a_plain_error(tmp_path):
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"this is not sqlite at all, just some text " * 100)
    with pytest.raises(HistoryUnreadable) as caught:
        HistoryStore(path)
    assert "Move the file aside" in str(caught.value)


def test_a_failing_step_rolls_back_to_the_previous_version(tmp_path):
    connection = sqlite3.connect(tmp_path / "h.sqlite3", isolation_level=None)
    try:
        steps = (("CREATE TABLE a (x)",), ("CREATE TABLE b (y)", "THIS IS NOT SQL"))
        with pytest.raises(sqlite3.OperationalError):
            upgrade(connection, steps)
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 0
        tables = {n for (n,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables == set()  # all steps of one upgrade are one transaction
        assert upgrade(connection, steps[:1]) == 0
        assert upgrade(connection, steps[:1]) == 1
    finally:
        connection.close()

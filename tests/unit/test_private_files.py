"""History and task logs are readable by this user only (issue 11 §5)."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from fedgui.core.history.store import HistoryStore

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_history_database_logs_folder_and_task_logs_are_private(tmp_path):
    old = os.umask(0o022)  # the usual default: files readable by everyone
    try:
        home = tmp_path / "fedgui-data"
        with HistoryStore(home / "history.sqlite3") as history:
            task = history.start_task("profile-1", "train")
            with history.open_task_log(task) as log:
                log.write_line("reading /data/patients/0042.csv")
            history.finish_task(task, "ok")
            log_path = history.logs_dir / history.task(task).log_path
        assert _mode(home) == 0o700
        assert _mode(home / "history.sqlite3") == 0o600
        for extra in ("history.sqlite3-wal", "history.sqlite3-shm"):
            if (home / extra).exists():
                assert _mode(home / extra) == 0o600
        assert _mode(home / "logs") == 0o700
        assert _mode(log_path.parent) == 0o700
        assert _mode(log_path) == 0o600
    finally:
        os.umask(old)


def test_an_existing_history_is_tightened(tmp_path):
    home = tmp_path / "old"
    home.mkdir(mode=0o755)
    (home / "history.sqlite3").touch(mode=0o644)
    HistoryStore(home / "history.sqlite3").close()
    assert _mode(home) == 0o700 and _mode(home / "history.sqlite3") == 0o600

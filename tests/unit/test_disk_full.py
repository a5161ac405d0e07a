"""A full disk, on a real (small, mounted) file system: true messages naming what and where,
nothing half-written, the history consistent (issue 11 §5)."""

from __future__ import annotations

import sys

import pytest

from fedgui.core.disk_space import DiskFull
from fedgui.core.execution.environment import EnvironmentBuilder
from fedgui.core.history.store import HistoryDiskFull, HistoryStore
from fedgui.core.package.manifest import PythonEnvSpec
from tests.small_disk import fill, small_disk

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mounts a tmpfs")


def test_a_full_disk_while_building_an_environment_says_so_not_install_python3_venv(tmp_path):
    with small_disk(tmp_path / "disk", size_mb=8) as disk:
        fill(disk, leave_bytes=200_000)
        builder = EnvironmentBuilder(cache_root=disk / "environments")
        spec = PythonEnvSpec(name="e", python=None, build_dependencies=(), dependencies=())
        with pytest.raises(DiskFull) as info:
            builder.ensure(spec, sys.executable)
        text = str(info.value)
        assert "no space left on the disk" in text.lower() and str(disk / "environments") in text
        assert "python3-venv" not in text
        assert not any((disk / "environments").glob("*/bin")), "a half-built environment was kept"


def test_history_on_a_full_disk_names_the_file_and_settles_the_task_when_there_is_room(tmp_path):
    with small_disk(tmp_path / "disk", size_mb=4) as disk:
        history = HistoryStore(disk / "history.sqlite3")
        task = history.start_task("p", "train")
        filler = fill(disk)
        with pytest.raises(HistoryDiskFull) as info:
            for _ in range(200):  # until the write-ahead log needs a new page
                history.finish_task(task, "ok", timings={"exec_training": 1.0})
                task = history.start_task("p", "train")
        assert str(disk / "history.sqlite3") in str(info.value)
        assert "Traceback" not in str(info.value)
        filler.unlink()  # room again: the next write settles the held-back finish
        history.start_task("p", "validate")
        statuses = {record.id: record.status for record in history.tasks(kind="train")}
        assert statuses[task] == "ok"
        assert "running" not in statuses.values()
        history.close()

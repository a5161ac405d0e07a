"""TreeSampler on real process trees: on Linux it reads only the tree's children files, and sees
the same processes as psutil's scan of every process (the fallback elsewhere)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from fedgui.core.execution import process_tree
from fedgui.core.execution.process_tree import TreeSampler

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process trees")

# A shell whose Python child starts two workers (a step with data-loader workers), each using
# some memory so the RSS sum is visibly theirs.
WORKER = "import time; x = b'1' * (16 * 1024 * 1024); time.sleep(60)"
PARENT = (
    "import subprocess, sys, time; "
    f"[subprocess.Popen([sys.executable, '-c', {WORKER!r}]) for _ in range(2)]; time.sleep(60)"
)


def _started(pid: int) -> bool:
    """The Python child and both workers run, and the workers hold their buffers."""
    tree = psutil.Process(pid).children(recursive=True)
    big = [p for p in tree if p.memory_info().rss > 16 * 1024 * 1024]
    return len(tree) == 3 and len(big) >= 2


@pytest.fixture
def step_tree(tmp_path):
    (tmp_path / "step.py").write_text(PARENT)
    root = subprocess.Popen(["bash", "-c", f"{sys.executable} {tmp_path / 'step.py'}; true"])
    deadline = time.monotonic() + 20
    while not _started(root.pid):
        assert time.monotonic() < deadline, "the tree did not start"
        time.sleep(0.05)
    yield root
    for child in psutil.Process(root.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child.kill()
    root.kill()
    root.wait()


def _pids(sampler: TreeSampler) -> set[int]:
    return set(sampler._current_tree())


@pytest.mark.skipif(not process_tree._CHILDREN_FILES, reason="needs /proc/PID/task/TID/children")
def test_children_files_find_the_same_tree_as_psutil(step_tree, monkeypatch):
    expected = {p.pid for p in psutil.Process(step_tree.pid).children(recursive=True)}
    assert len(expected) == 3
    assert _pids(TreeSampler(step_tree.pid, include_root=False)) == expected
    assert _pids(TreeSampler(step_tree.pid)) == expected | {step_tree.pid}
    monkeypatch.setattr(process_tree, "_CHILDREN_FILES", False)  # the fallback: psutil's scan
    assert _pids(TreeSampler(step_tree.pid, include_root=False)) == expected


@pytest.mark.parametrize("children_files", [True, False])
def test_a_sample_sums_the_tree_and_drops_ended_processes(step_tree, monkeypatch, children_files):
    if children_files and not process_tree._CHILDREN_FILES:
        pytest.skip("needs /proc/PID/task/TID/children")
    monkeypatch.setattr(process_tree, "_CHILDREN_FILES", children_files)
    sampler = TreeSampler(step_tree.pid, include_root=False)
    _cpu, rss = sampler.sample()
    assert rss > 2 * 16 * 1024 * 1024  # both workers' buffers at least
    worker = max(psutil.Process(step_tree.pid).children(recursive=True), key=lambda p: p.pid)
    os.kill(worker.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while worker.is_running() and worker.status() != psutil.STATUS_ZOMBIE:  # its parent never reaps it
        assert time.monotonic() < deadline
        time.sleep(0.05)
    _cpu, after = sampler.sample()
    assert after < rss - 10 * 1024 * 1024  # the killed worker's memory no longer counts


def test_a_gone_root_samples_nothing():
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert TreeSampler(proc.pid).sample() == (0.0, 0)

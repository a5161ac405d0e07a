"""Start a child in its own process group and stop it together with everything it started.

Entry points are shell commands (``bash -c ...``): the process we start is the shell, and the
training script is its child, which may start workers of its own (PyTorch data loaders ...).
Terminating only the shell would leave those running and holding the GPU, the data and our
pipes, so cancel and timeout always take down the whole tree.

On POSIX the step runs under ``step_supervisor.py`` (see there), which also catches processes
that left the step's process group or session; the functions here are the fallback when the
supervisor cannot do its job (it was killed, or the system has no subreaper).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import psutil

IS_WINDOWS = sys.platform == "win32"
# Windows has no SIGKILL; the group signal is a no-op there anyway (psutil does the killing).
_HARD_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)


def new_group_popen_kwargs() -> dict[str, Any]:
    """Popen arguments that put the child in a process group of its own.

    On POSIX a new session makes the child the leader of a fresh process group, so one
    ``killpg`` also reaches grandchildren that were re-parented after their parent died.
    On Windows ``CREATE_NEW_PROCESS_GROUP`` keeps Ctrl+C in our console from reaching it.
    """
    if sys.platform == "win32":  # spelled out, not IS_WINDOWS: the type checker knows this one
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


_SUPERVISOR_SCRIPT = Path(__file__).with_name("step_supervisor.py")


def supervised_argv(
    python: Path | str, argv: Sequence[str], grace_seconds: float, report_prefix: str
) -> list[str]:
    """``argv`` run under the step supervisor (POSIX); unchanged on Windows, where the runner
    stops the tree itself. ``python`` must be a real interpreter (3.9+): the package's."""
    if IS_WINDOWS:
        return list(argv)
    # -I -S: no user site, no site-packages, no PYTHON* variables: fast, and the package's
    # environment cannot change how the supervisor behaves.
    return [
        str(python),
        "-I",
        "-S",
        str(_SUPERVISOR_SCRIPT),
        f"{grace_seconds:g}",
        report_prefix,
        "--",
        *argv,
    ]


def process_tree(pid: int) -> list[psutil.Process]:
    """The process and all its living descendants (parent first); empty if it is gone."""
    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _has_children_files() -> bool:
    """Linux with ``CONFIG_PROC_CHILDREN`` (every mainstream kernel): ``/proc/PID/task/TID/children``
    lists a thread's children, so a tree can be walked without reading every process."""
    me = os.getpid()
    return sys.platform.startswith("linux") and os.path.exists(f"/proc/{me}/task/{me}/children")


_CHILDREN_FILES = _has_children_files()


def _tree_pids_from_proc(pid: int) -> list[int]:
    """``pid`` and its descendants (parent first) from the children files: reads only the tree.

    The kernel calls these lists unreliable while the tree forks; that is fine for a resource
    sample (a process born a moment ago is counted next time), not for stopping a tree, which
    uses :func:`process_tree`."""
    found: list[int] = []
    seen: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop(0)
        if current in seen:
            continue
        seen.add(current)
        try:
            threads = os.listdir(f"/proc/{current}/task")
        except OSError:  # gone meanwhile
            continue
        found.append(current)
        for tid in threads:
            try:
                with open(f"/proc/{current}/task/{tid}/children", "rb") as handle:
                    todo.extend(int(child) for child in handle.read().split())
            except (OSError, ValueError):  # the thread ended meanwhile
                continue
    return found


def _signal_group(pgid: int, sig: int) -> None:
    """Signal the process group ``pgid`` (POSIX), which we created with a new session for the
    child, so it still works after the leader exited; never our own group."""
    if IS_WINDOWS or pgid == os.getpgrp():
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def terminate_tree(pid: int, grace_seconds: float = 5.0) -> None:
    """Ask the whole tree under ``pid`` to stop, then kill whatever is left after the grace time."""
    procs = process_tree(pid)
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _signal_group(pid, signal.SIGTERM)
    _gone, alive = psutil.wait_procs(procs, timeout=grace_seconds)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    _signal_group(pid, _HARD_KILL)
    psutil.wait_procs(alive, timeout=grace_seconds)


def kill_group_leftovers(pgid: int) -> None:
    """Kill processes left in the group after its leader exited (POSIX only).

    A script that starts a background helper and exits leaves the helper holding our output
    pipes; without this the reader threads would wait for it forever.
    """
    _signal_group(pgid, _HARD_KILL)


class TreeSampler:
    """CPU% and resident memory of a whole process tree, sampled on demand.

    psutil needs the same ``Process`` object between calls to compute CPU%, so the objects
    are kept across samples; the first sample of a new process reads 0 %.
    """

    #: At most this many processes are remembered for ``kill_seen`` (a step forking short-lived
    #: processes all day must not grow the list without bound).
    MAX_REMEMBERED = 10_000

    def __init__(self, pid: int, include_root: bool = True) -> None:
        self._pid = pid
        #: False when ``pid`` is the step supervisor: its few MB are not the package's.
        self._include_root = include_root
        self._known: dict[int, psutil.Process] = {}
        self._seen: dict[tuple[int, float], psutil.Process] = {}

    def kill_seen(self) -> int:
        """Kill every process ever sampled in the tree that still runs (psutil checks the pid was
        not reused); the fallback for processes that left the group. Returns how many."""
        killed = 0
        for proc in list(self._seen.values()):
            with contextlib.suppress(psutil.Error):
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    proc.kill()
                    killed += 1
        return killed

    def sample(self) -> tuple[float, int]:
        """(CPU percent summed over the tree, RSS bytes summed over the tree)."""
        cpu = 0.0
        rss = 0
        current = self._current_tree()
        self._remember(current.values())
        for pid, fresh in current.items():
            proc = self._known.setdefault(pid, fresh)
            try:
                with proc.oneshot():
                    cpu += proc.cpu_percent(interval=None)
                    rss += proc.memory_info().rss
            except psutil.Error:
                continue
        self._known = {pid: proc for pid, proc in self._known.items() if pid in current}
        return cpu, rss

    def _current_tree(self) -> dict[int, psutil.Process]:
        """pid → Process of the tree's members now (without the root unless ``include_root``).

        ``psutil.Process.children(recursive=True)`` reads ``/proc/*/stat`` of every process on
        the machine each time; on Linux only the tree's own children files are read, and a
        process already known keeps its object (no new ``/proc`` reads to make one)."""
        if not _CHILDREN_FILES:
            tree = process_tree(self._pid)
            return {proc.pid: proc for proc in (tree if self._include_root else tree[1:])}
        pids = _tree_pids_from_proc(self._pid)
        if not self._include_root:
            pids = pids[1:]
        current: dict[int, psutil.Process] = {}
        for pid in pids:
            known = self._known.get(pid)
            if known is not None:
                current[pid] = known
                continue
            with contextlib.suppress(psutil.Error):
                current[pid] = psutil.Process(pid)
        return current

    def _remember(self, procs: Iterable[psutil.Process]) -> None:
        for proc in procs:
            if len(self._seen) >= self.MAX_REMEMBERED:
                return
            with contextlib.suppress(psutil.Error):
                self._seen.setdefault((proc.pid, proc.create_time()), proc)

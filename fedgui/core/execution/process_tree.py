"""Start a child in its own process group and stop it together with everything it started.

Entry points are shell commands (``bash -c ...``): the process we start is the shell, and the
training script is its child, which may start workers of its own (PyTorch data loaders ...).
Terminating only the shell would leave those running and holding the GPU, the data and our
pipes, so cancel and timeout always take down the whole tree.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
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
    if IS_WINDOWS:
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def process_tree(pid: int) -> list[psutil.Process]:
    """The process and all its living descendants (parent first); empty if it is gone."""
    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


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

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._known: dict[int, psutil.Process] = {}

    def sample(self) -> tuple[float, int]:
        """(CPU percent summed over the tree, RSS bytes summed over the tree)."""
        cpu = 0.0
        rss = 0
        current = {proc.pid: proc for proc in process_tree(self._pid)}
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

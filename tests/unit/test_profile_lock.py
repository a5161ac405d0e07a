"""One session per profile across processes: real processes hold and lose the lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from fedgui.core.profile_lock import ProfileInUse, ProfileLock, read_holder

PROFILE_ID = "0b8f6f0e-8a3c-4f55-9d7e-2f6c1c0c7a10"

HOLDER = textwrap.dedent(
    """
    import sys, time
    from fedgui.core.profile_lock import ProfileLock
    lock = ProfileLock.for_profile(sys.argv[1], sys.argv[2])
    lock.acquire(program="fedgui run")
    print("held", flush=True)
    time.sleep(120)
    """
)


def _holder(folder: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder), PROFILE_ID], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_process_is_refused_and_told_which_process_holds_the_profile(tmp_path):
    holder = _holder(tmp_path)
    try:
        with pytest.raises(ProfileInUse) as refused:
            ProfileLock.for_profile(tmp_path, PROFILE_ID).acquire()
        assert refused.value.holder is not None and refused.value.holder.pid == holder.pid
        assert f"process {holder.pid}" in str(refused.value)
        assert "fedgui run" in str(refused.value)
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_of_a_killed_process_is_taken_over(tmp_path):
    holder = _holder(tmp_path)
    os.kill(holder.pid, signal.SIGKILL)  # no chance to release anything
    holder.wait()
    assert read_holder(tmp_path / f"{PROFILE_ID}.lock").pid == holder.pid  # the file is still there
    lock = ProfileLock.for_profile(tmp_path, PROFILE_ID)
    lock.acquire(program="the fedgui desktop app")
    try:
        assert lock.took_over_from is not None and lock.took_over_from.pid == holder.pid
        assert read_holder(lock.path).pid == os.getpid()
    finally:
        lock.release()


def test_release_lets_the_next_one_in_and_one_process_cannot_hold_it_twice(tmp_path):
    first = ProfileLock.for_profile(tmp_path, PROFILE_ID)
    first.acquire()
    second = ProfileLock.for_profile(tmp_path, PROFILE_ID)
    with pytest.raises(ProfileInUse):  # two sessions of one profile in one process, too
        second.acquire()
    first.release()
    started = time.monotonic()
    second.acquire()
    assert time.monotonic() - started < 1
    assert second.took_over_from is None  # released cleanly: nobody to take over from
    second.release()

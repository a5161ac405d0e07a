"""A real, small file system to fill up: a tmpfs mounted for the test (needs root, as in the
test container). Where it cannot be mounted the tests that use it are skipped, saying why: a
faked ENOSPC would not show what a real full disk does to SQLite, pip and venv."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_disk(mount_point: Path, size_mb: int = 8) -> Iterator[Path]:
    mount_point.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; a full disk is not faked here")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"could not mount a small tmpfs: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path, leave_bytes: int = 0) -> Path:
    """Fill ``disk`` until at most ``leave_bytes`` are free; returns the filler (delete it to
    make room again)."""
    filler = disk / "filler"
    with open(filler, "wb") as handle:
        while True:
            free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
            if free <= leave_bytes:
                break
            try:
                handle.write(b"\0" * min(1 << 20, max(4096, free - leave_bytes)))
                handle.flush()
            except OSError:
                break
    return filler

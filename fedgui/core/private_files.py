"""Folders and files only this user may read: the task history and the task logs.

They hold what the package printed (file names of the person's data, sometimes values from it)
and the network's addresses; other accounts on a shared computer have no business reading them.
POSIX permissions only; on Windows the user's profile folder is private already.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
_POSIX = sys.platform != "win32"


def private_folder(path: Path) -> Path:
    """Create ``path`` (and parents) and make it ``rwx------``."""
    path.mkdir(parents=True, exist_ok=True)
    if _POSIX:
        with contextlib.suppress(OSError):  # not ours (a shared folder chosen on purpose): leave it
            os.chmod(path, PRIVATE_FOLDER)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` if missing as ``rw-------`` (from the start, never readable by others),
    and tighten an existing one."""
    fd = os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, PRIVATE_FILE)
    os.close(fd)
    if _POSIX:
        with contextlib.suppress(OSError):
            os.chmod(path, PRIVATE_FILE)
    return path

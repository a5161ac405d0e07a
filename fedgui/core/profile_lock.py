"""One running session per connection profile, across the desktop app and ``fedgui run``.

Two processes with one profile would register the same client id with FEDn, race each other at
registration and split the network's tasks between them. So a session holds an OS file lock on
``<profile id>.lock`` in the profile's folder while it runs, and writes into the file who holds
it (process id, program, since when), so that a second process can say which one to stop.

The lock is an OS lock (``flock`` / ``LockFileEx`` through ``msvcrt``), not the file's existence:
when the holder dies, even by ``kill -9``, the OS releases it, and the next process takes the
file over and writes itself in. There is no stale lock to clean up by hand.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from fedgui.core.errors import FedguiError

# Windows locks byte ranges and refuses reads of a locked range: lock a byte far past the
# holder's description, so that others can still read who holds it.
_WINDOWS_LOCK_OFFSET = 1 << 20


@dataclass(frozen=True)
class LockHolder:
    pid: int
    program: str
    since: float

    def describe(self) -> str:
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.since))
        return f"process {self.pid} ({self.program}, running since {started})"


class ProfileInUse(FedguiError):
    default_next_step = (
        "Stop the other one first, or keep using it; two at once would appear to the network as "
        "one client and split its work."
    )

    def __init__(self, message: str, holder: LockHolder | None, next_step: str | None = None) -> None:
        super().__init__(message, next_step)
        self.holder = holder


def this_program() -> str:
    """How this process is known to the person: ``fedgui run`` or the desktop app."""
    if len(sys.argv) > 1 and sys.argv[1] in ("run", "preview"):
        return f"fedgui {sys.argv[1]}"
    return "the fedgui desktop app"


class ProfileLock:
    """``acquire()`` or raise :class:`ProfileInUse`; ``release()`` when the session ends."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._handle: IO[bytes] | None = None
        #: The holder found in the file when we took it over (it had died), for the log.
        self.took_over_from: LockHolder | None = None

    @classmethod
    def for_profile(cls, folder: Path, profile_id: str) -> ProfileLock:
        return cls(Path(folder) / f"{profile_id}.lock")

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self, program: str | None = None) -> None:
        if self._handle is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+b")  # noqa: SIM115 - held open while the session runs
        try:
            if not _try_lock(handle):
                holder = read_holder(self.path)
                who = holder.describe() if holder else "another process"
                raise ProfileInUse(
                    f"Another fedgui is already taking part with this connection: {who}.", holder
                )
            self.took_over_from = read_holder(self.path, attempts=1)
            me = {"pid": os.getpid(), "program": program or this_program(), "since": time.time()}
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(me).encode())
            handle.flush()
        except BaseException:
            handle.close()
            raise
        self._handle = handle

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            handle.seek(0)
            handle.truncate()  # nobody holds it now; the empty file stays for the next one
            handle.flush()
            _unlock(handle)
        finally:
            handle.close()


def read_holder(path: Path, attempts: int = 5) -> LockHolder | None:
    """Who the lock file says holds it (None if empty or unreadable). A holder writes itself in
    right after taking the lock, so a reader may see an empty file for an instant: try briefly."""
    for attempt in range(attempts):
        if attempt:
            time.sleep(0.05)
        try:
            data = json.loads(Path(path).read_bytes().decode() or "null")
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict):
            try:
                return LockHolder(int(data["pid"]), str(data["program"]), float(data["since"]))
            except (KeyError, TypeError, ValueError):
                return None
    return None


def _try_lock(handle: IO[bytes]) -> bool:
    if sys.platform == "win32":  # pragma: no cover - Windows
        import msvcrt

        handle.seek(_WINDOWS_LOCK_OFFSET)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(handle: IO[bytes]) -> None:
    if sys.platform == "win32":  # pragma: no cover - Windows
        import msvcrt

        handle.seek(_WINDOWS_LOCK_OFFSET)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

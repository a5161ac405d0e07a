"""Read a step's output pipe line by line on a thread that can always be told to stop.

A process the step left behind may keep the write end of the pipe open forever; a thread
blocked in ``readline()`` would then never return, and closing the pipe under it blocks too
(the buffered reader holds its lock). On POSIX the reader therefore waits for data with a
selector and a short timeout, reads raw bytes and splits lines itself, and ``stop()`` ends it
within a fraction of a second. Windows has no select() on pipes: there the reader blocks in
``readline()`` and a stopped reader is left behind (a daemon thread) with its pipe open.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import sys
import threading
from collections.abc import Callable
from typing import IO

#: How often a waiting reader looks at its stop flag.
_POLL_SECONDS = 0.1
_CHUNK = 64 * 1024


class PipeLineReader(threading.Thread):
    """Calls ``on_line(raw_line)`` for each line (with its newline, if any); lines longer than
    ``max_line_bytes`` arrive in pieces, so one endless line cannot exhaust memory."""

    def __init__(
        self, pipe: IO[bytes], on_line: Callable[[bytes], None], max_line_bytes: int, name: str
    ) -> None:
        super().__init__(name=name, daemon=True)
        self._pipe = pipe
        self._on_line = on_line
        self._max = max_line_bytes
        self._stop_requested = threading.Event()

    def stop(self) -> None:
        """Stop reading soon, even if a writer still holds the pipe open."""
        self._stop_requested.set()

    def close_pipe_if_done(self) -> bool:
        """Close our end once the thread has ended (closing under a blocked reader would hang)."""
        if self.is_alive():
            return False
        with contextlib.suppress(OSError):
            self._pipe.close()
        return True

    def run(self) -> None:
        try:
            if sys.platform == "win32":
                self._read_blocking()
            else:
                self._read_selecting()
        except (OSError, ValueError):  # the pipe went away under us
            return

    def _read_blocking(self) -> None:
        for raw in iter(lambda: self._pipe.readline(self._max), b""):
            if self._stop_requested.is_set():
                return
            self._on_line(raw)

    def _read_selecting(self) -> None:
        fd = self._pipe.fileno()
        buffer = bytearray()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while not self._stop_requested.is_set():
                if not selector.select(_POLL_SECONDS):
                    continue
                chunk = os.read(fd, _CHUNK)
                if not chunk:
                    break
                buffer += chunk
                self._emit_complete_lines(buffer)
        if buffer:
            self._on_line(bytes(buffer))

    def _emit_complete_lines(self, buffer: bytearray) -> None:
        start = 0
        while True:
            end = buffer.find(b"\n", start, start + self._max)
            if end >= 0:
                self._on_line(bytes(buffer[start : end + 1]))
                start = end + 1
            elif len(buffer) - start >= self._max:
                self._on_line(bytes(buffer[start : start + self._max]))
                start += self._max
            else:
                break
        del buffer[:start]

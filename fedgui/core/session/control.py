"""Thread-safe control flags shared by the session's threads.

The person (GUI or Ctrl-C) changes these from one thread; the session's worker threads read
them and sleep on :meth:`SessionControl.wait`, which any change wakes at once, so a stop during
a 60 s back-off does not wait 60 s.
"""

from __future__ import annotations

import threading


class SessionControl:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.stop_requested = False
        self.pause_requested = False
        self._generation = 0  # bumped on every change, so waiters can tell a change from a timeout

    def _bump(self) -> None:
        self._generation += 1
        self._changed.notify_all()

    def request_stop(self) -> None:
        with self._changed:
            self.stop_requested = True
            self._bump()

    def request_pause(self) -> None:
        with self._changed:
            self.pause_requested = True
            self._bump()

    def request_resume(self) -> None:
        with self._changed:
            self.pause_requested = False
            self._bump()

    def poke(self) -> None:
        """Wake the waiters without changing a flag (a new token, an approval...)."""
        with self._changed:
            self._bump()

    def wait(self, timeout: float | None) -> bool:
        """Sleep until something changes or ``timeout`` passes; True when woken by a change."""
        with self._changed:
            generation = self._generation
            if self.stop_requested:
                return True
            self._changed.wait_for(lambda: self._generation != generation, timeout=timeout)
            return self._generation != generation

"""Notice when the network publishes a new compute package while we are connected.

FEDn does not tell clients that the package changed; its own client only looks at start-up. So
every ``interval`` seconds we ask the controller two things, cheapest first:

1. under which name it serves the package (a HEAD request on the download). FEDn stores every
   upload under a fresh name, so a new name means a new upload. This works on every FEDn
   version and with a client token, where FEDn 0.33's checksum route often answers 404 and its
   ``/api/v1/packages/active`` is for admin tokens only;
2. only when the name changed, or when the controller gives no name: the checksum it publishes,
   where it publishes one. The same bytes uploaded again (same checksum as the package we run)
   are then no reason to interrupt anything.

When it changed, the session finishes the running task, reconnects and shows the new package for
review before anything of it runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from fedgui.core.controller.client import PublishedPackage
from fedgui.core.errors import FedguiError

log = logging.getLogger(__name__)

#: How often a connected client asks whether the package changed (seconds). Short, because a
#: person who uploads a fix expects the clients to notice it; each check is a HEAD request.
DEFAULT_INTERVAL = 15.0


class PackageChangeDetector:
    """Decides, one check at a time, whether the controller now serves another package than the
    one we run (``current_checksum``, the SHA-256 we computed ourselves)."""

    def __init__(
        self,
        read_published: Callable[[], PublishedPackage | None],
        read_checksum: Callable[[], str | None],
        current_checksum: str,
        published_at_start: PublishedPackage | None,
    ) -> None:
        self._read_published = read_published
        self._read_checksum = read_checksum
        self._current = current_checksum.lower()
        self._baseline = published_at_start

    def check(self) -> bool:
        """True when the network's package is no longer ours. Raises FedguiError when the
        controller cannot be asked right now."""
        published = self._read_published()
        if published is not None and self._baseline is not None and published == self._baseline:
            return False
        if published is not None and self._baseline is None:
            # The first name we learn (the start-up read failed): take it as ours only if the
            # checksum says so, or if there is no checksum to ask.
            checksum = self._read_checksum()
            if checksum is None or checksum.lower() == self._current:
                self._baseline = published
                return False
            return True
        checksum = self._read_checksum()
        if published is not None:  # the name changed
            if checksum is not None and checksum.lower() == self._current:
                self._baseline = published  # the same bytes uploaded again
                return False
            return True
        # No name to compare (an old or unusual controller): the checksum alone decides.
        return checksum is not None and checksum.lower() != self._current


class PackageWatcher(threading.Thread):
    def __init__(
        self,
        detector: PackageChangeDetector,
        interval: float,
        on_change: Callable[[], None],
    ) -> None:
        super().__init__(name="session-package-watch", daemon=True)
        self._detector = detector
        self._interval = interval
        self._on_change = on_change
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                changed = self._detector.check()
            except FedguiError as exc:  # the controller being away is the stream's business
                log.debug("package check skipped: %s", exc)
                continue
            if changed and not self._stopped.is_set():
                self._on_change()
                return

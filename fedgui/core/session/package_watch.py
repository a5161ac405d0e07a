"""Notice when the network publishes a new compute package while we are connected.

FEDn does not tell clients that the package changed; its client only looks at start-up. We ask
the controller for the package checksum now and then; when it changed, the session finishes the
running task, reconnects and shows the new package for review before anything of it runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from fedgui.core.errors import FedguiError

log = logging.getLogger(__name__)


class PackageWatcher(threading.Thread):
    def __init__(
        self,
        read_checksum: Callable[[], str | None],
        current: str,
        interval: float,
        on_change: Callable[[str], None],
    ) -> None:
        super().__init__(name="session-package-watch", daemon=True)
        self._read_checksum = read_checksum
        self._current = current.lower()
        self._interval = interval
        self._on_change = on_change
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                checksum = self._read_checksum()
            except FedguiError as exc:  # the controller being away is the stream's business
                log.debug("package check skipped: %s", exc)
                continue
            if checksum and checksum.lower() != self._current:
                self._on_change(checksum)
                return

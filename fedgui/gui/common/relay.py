"""Hand values from a worker thread to the UI thread.

Create a :class:`Relay` on the UI thread and pass ``relay.send`` to core code as a callback
(progress, log lines). Qt queues the signal to the thread the relay lives in, so the worker never
waits for a widget and widgets are only touched on the UI thread.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal


class Relay(QObject):
    received = Signal(object)

    def send(self, value: Any) -> None:
        """Callable from any thread."""
        self.received.emit(value)

"""Carry core events from worker threads to the Qt (UI) thread.

The core's :class:`~fedgui.core.events.EventBus` calls observers on whatever thread emitted
the event. :class:`EventBridge` is such an observer: it re-emits the event as a Qt signal,
which Qt queues to the thread the bridge lives in (the UI thread), so widgets only ever see
events on the UI thread and the emitting thread never waits for a widget.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from fedgui.core.events import Event, EventBus


class EventBridge(QObject):
    event = Signal(object)

    def __init__(self, bus: EventBus | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe: Callable[[], None] | None = None
        if bus is not None:
            self.attach(bus)

    def attach(self, bus: EventBus) -> None:
        self.detach()
        self._unsubscribe = bus.subscribe(self._forward)

    def detach(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None

    def _forward(self, event: Event) -> None:
        # Called on the emitting thread; Signal.emit across threads is queued by Qt.
        self.event.emit(event)

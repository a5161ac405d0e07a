"""One live connection to a combiner: heartbeats, telemetry and the task stream.

Heartbeats every 2 s on their own thread (a client silent for more than 10 s is "inactive"
and gets no tasks, even with an open stream); telemetry every 5 s; the task stream is read on
a thread of its own that hands each task to the session's inbox, so the session thread stays
free to answer the person (pause, stop) while it waits for work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import grpc

from fedgui.core.events import EventBus, client_line
from fedgui.core.protocol import messages as msg
from fedgui.core.protocol.channel import CombinerConnection
from fedgui.core.protocol.messages import ClientIdentity
from fedgui.core.session.control import StreamEnded, TaskArrived

log = logging.getLogger(__name__)


class CombinerLink:
    def __init__(self, connection: CombinerConnection, timing: Any, bus: EventBus) -> None:
        self.connection = connection
        self.timing = timing
        self.bus = bus
        self._closed = threading.Event()
        self._stream: Any = None  # the TaskStream call (grpc has no types)
        self._stream_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.heartbeat_error: BaseException | None = None  # a grpc.RpcError
        self.me = ClientIdentity(connection.client_id, connection.client_name)

    # ---- the task stream ---------------------------------------------------------------------

    def open(self, deliver: Callable[[object], None]) -> None:
        """Subscribe to tasks. A reader thread hands each task to ``deliver`` as
        :class:`TaskArrived`, in arrival order, and the end of the stream as :class:`StreamEnded`
        (with the gRPC error that broke it, if any). A failed first heartbeat raises here."""
        # One heartbeat first, synchronously: it fails fast on a wrong token or a dead combiner,
        # and makes the combiner count us as active before the stream opens.
        self._send_heartbeat()
        self._start_background("heartbeat", self._heartbeat_loop, self.timing.heartbeat_interval)
        self._start_background("telemetry", self._telemetry_loop, self.timing.telemetry_interval)
        request = msg.client_available(self.me)
        with self._stream_lock:
            if self._closed.is_set():
                deliver(StreamEnded(self))
                return
            self._stream = self.connection.combiner.TaskStream(request)
        self._start_background("stream", self._read_stream, deliver)

    def _read_stream(self, deliver: Callable[[object], None]) -> None:
        error: BaseException | None = None
        try:
            for task_request in self._stream:
                deliver(TaskArrived(self, task_request))
        except grpc.RpcError as exc:
            error = exc
        deliver(StreamEnded(self, error))

    def ending_error(self, ended: StreamEnded) -> BaseException | None:
        """What to raise for the end of the stream: None when it ended cleanly or we closed it."""
        if self.heartbeat_error is not None:
            return self.heartbeat_error  # the stream was closed because the token stopped working
        error = ended.error
        if isinstance(error, grpc.RpcError) and error.code() == grpc.StatusCode.CANCELLED and self.closed:
            return None  # we closed it ourselves (pause / stop / new package)
        return error

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close_stream(self) -> None:
        """Cancel the task stream from any thread (pause, stop, fatal heartbeat error)."""
        with self._stream_lock:
            stream = self._stream
            self._closed.set()
        if stream is not None:
            stream.cancel()

    def close(self) -> None:
        self.close_stream()
        for thread in self._threads:
            thread.join(timeout=5)
        self.connection.close()

    # ---- background loops --------------------------------------------------------------------

    def _start_background(self, name: str, loop: Callable[[Any], None], argument: Any) -> None:
        thread = threading.Thread(target=loop, args=(argument,), name=f"session-{name}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _send_heartbeat(self) -> None:
        self.connection.connector.SendHeartbeat(msg.heartbeat(self.me), timeout=10)

    def _heartbeat_loop(self, interval: float) -> None:
        failures = 0
        while not self._closed.wait(interval):
            try:
                self._send_heartbeat()
                failures = 0
            except grpc.RpcError as exc:
                failures += 1
                code = exc.code()
                if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
                    # The token stopped working mid-session (expired): end the stream so the
                    # session can move to "token expired" instead of silently getting no tasks.
                    self.heartbeat_error = exc
                    self.close_stream()
                    return
                if failures == 3:
                    self.bus.emit(
                        client_line(f"Heartbeats to the combiner are failing ({code.name}).", "warning")
                    )

    def _telemetry_loop(self, interval: float) -> None:
        while not self._closed.wait(interval):
            try:
                self.connection.combiner.SendTelemetryMessage(msg.machine_telemetry(self.me), timeout=10)
            except grpc.RpcError as exc:
                # Telemetry is optional (older combiners answer UNIMPLEMENTED): never fatal.
                log.debug("telemetry not sent: %s", exc.code())

"""An in-process stand-in for a FEDn combiner, for tests (no FEDn, no network beyond loopback).

The real combiner cannot tell a test what it received: it only logs the ``client`` metadata key
and never echoes the others. This fake records the method, metadata and request(s) of every
call, so tests can check exactly what fedgui puts on the wire. It mimics the combiner's answers
where clients depend on them (Download framing, Upload terminator rule, JWT error texts), and
lets a test queue tasks for TaskStream or make any method fail with a chosen status.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import Message

from fedgui.core.protocol.generated import fedn_pb2 as pb


@dataclass
class RecordedCall:
    method: str  # e.g. "/fedn.Connector/SendHeartbeat"
    metadata: dict[str, str]
    requests: list[Any] = field(default_factory=list)


class FakeCombiner:
    """Start with :meth:`start` (or ``with FakeCombiner() as fake:``); ``fake.port``."""

    def __init__(self, token: str | None = None, chunk_size: int = 1024 * 1024) -> None:
        self.token = token  # when set, calls must carry "authorization: Bearer <token>"
        self.chunk_size = chunk_size
        self.models: dict[str, bytes] = {}
        #: model id -> exact frames Download answers with (overrides ``models``)
        self.download_frames: dict[str, list[pb.ModelResponse]] = {}
        #: full method path -> (status code, details) to fail that method with
        self.failures: dict[str, tuple[grpc.StatusCode, str]] = {}
        self.calls: list[RecordedCall] = []
        self._tasks: queue.Queue[pb.TaskRequest] = queue.Queue()
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None
        self.port = 0

    # ---- lifecycle ----

    def start(self) -> FakeCombiner:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        server.add_generic_rpc_handlers(self._handlers())
        self.port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=0).wait()
            self._server = None

    def __enter__(self) -> FakeCombiner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def push_task(self, task: pb.TaskRequest) -> None:
        """Queue a task for the next (or current) TaskStream subscriber."""
        self._tasks.put(task)

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._lock:
            return [call for call in self.calls if call.method.endswith("/" + method)]

    # ---- plumbing ----

    def _record(self, method: str, context: grpc.ServicerContext) -> RecordedCall:
        call = RecordedCall(method, dict(context.invocation_metadata()))
        with self._lock:
            self.calls.append(call)
        failure = self.failures.get(method)
        if failure is not None:
            context.abort(*failure)
        if self.token is not None:
            auth = call.metadata.get("authorization")
            if auth is None:
                context.abort(grpc.StatusCode.UNAUTHENTICATED, "Token is missing")
                return call  # abort raises; this line is for the type checker
            if not auth.startswith("Bearer "):
                context.abort(grpc.StatusCode.UNAUTHENTICATED, "Invalid token scheme, expected Bearer")
            if auth.removeprefix("Bearer ") != self.token:
                context.abort(grpc.StatusCode.UNAUTHENTICATED, "Invalid token")
        return call

    def _unary(
        self, service: str, name: str, request_type: Any, answer: Callable[[Any], Message]
    ) -> tuple[str, Any]:
        method = f"/fedn.{service}/{name}"

        def handle(request: Any, context: Any) -> Message:
            self._record(method, context).requests.append(request)
            return answer(request)

        return name, grpc.unary_unary_rpc_method_handler(
            handle, request_deserializer=request_type.FromString, response_serializer=_serialize
        )

    def _handlers(self) -> list[grpc.GenericRpcHandler]:
        def received(text: str) -> Callable[[Any], Message]:
            return lambda request: pb.Response(
                sender=pb.Client(name="fake-combiner", role=pb.COMBINER), response=text
            )

        connector = dict(
            [
                self._unary("Connector", "SendHeartbeat", pb.Heartbeat, received("Heartbeat received")),
                self._unary("Connector", "SendStatus", pb.Status, received("Status received")),
            ]
        )
        combiner = dict(
            [
                self._unary("Combiner", "SendModelUpdate", pb.ModelUpdate, received("RECEIVED ModelUpdate")),
                self._unary("Combiner", "SendModelValidation", pb.ModelValidation, received("RECEIVED")),
                self._unary("Combiner", "SendModelPrediction", pb.ModelPrediction, received("RECEIVED")),
                self._unary("Combiner", "SendModelMetric", pb.ModelMetric, received("RECEIVED")),
                self._unary("Combiner", "SendAttributeMessage", pb.AttributeMessage, received("RECEIVED")),
                self._unary("Combiner", "SendTelemetryMessage", pb.TelemetryMessage, received("RECEIVED")),
            ]
        )
        combiner["TaskStream"] = grpc.unary_stream_rpc_method_handler(
            self._task_stream,
            request_deserializer=pb.ClientAvailableMessage.FromString,
            response_serializer=_serialize,
        )
        models = {
            "Download": grpc.unary_stream_rpc_method_handler(
                self._download,
                request_deserializer=pb.ModelRequest.FromString,
                response_serializer=_serialize,
            ),
            "Upload": grpc.stream_unary_rpc_method_handler(
                self._upload, request_deserializer=pb.ModelRequest.FromString, response_serializer=_serialize
            ),
        }
        return [
            grpc.method_handlers_generic_handler("fedn.Connector", connector),
            grpc.method_handlers_generic_handler("fedn.Combiner", combiner),
            grpc.method_handlers_generic_handler("fedn.ModelService", models),
        ]

    def _task_stream(self, request: pb.ClientAvailableMessage, context: Any) -> Iterator[pb.TaskRequest]:
        call = self._record("/fedn.Combiner/TaskStream", context)
        call.requests.append(request)
        if "client" not in call.metadata:  # what the real combiner does (a KeyError)
            context.abort(grpc.StatusCode.UNKNOWN, "Exception iterating responses: 'client'")
        while context.is_active():
            try:
                yield self._tasks.get(timeout=0.1)
            except queue.Empty:
                continue

    def _download(self, request: pb.ModelRequest, context: Any) -> Iterator[pb.ModelResponse]:
        self._record("/fedn.ModelService/Download", context).requests.append(request)
        if request.id in self.download_frames:
            yield from self.download_frames[request.id]
            return
        data = self.models.get(request.id)
        if data is None:
            yield pb.ModelResponse(id=request.id, status=pb.UNKNOWN)
            yield pb.ModelResponse(id=request.id, status=pb.FAILED)
            return
        for start in range(0, len(data), self.chunk_size):
            chunk = data[start : start + self.chunk_size]
            yield pb.ModelResponse(id=request.id, data=chunk, status=pb.IN_PROGRESS)
        yield pb.ModelResponse(id=request.id, status=pb.OK)

    def _upload(self, requests: Iterator[pb.ModelRequest], context: Any) -> pb.ModelResponse | None:
        call = self._record("/fedn.ModelService/Upload", context)
        parts: list[bytes] = []
        for frame in requests:
            call.requests.append(frame)
            if frame.status == pb.IN_PROGRESS:
                parts.append(frame.data)
            elif frame.status == pb.OK and not frame.data:  # the combiner's terminator rule
                self.models[frame.id] = b"".join(parts)
                return pb.ModelResponse(id=frame.id, status=pb.OK, message="Got model successfully.")
        context.abort(grpc.StatusCode.INTERNAL, "Failed to serialize response!")
        return None


def _serialize(message: Message) -> bytes:
    data: bytes = message.SerializeToString()
    return data

"""The gRPC channel to a combiner: where to connect, TLS, keepalive, and per-call metadata.

FEDn's combiner needs the ``client`` metadata key on every call (TaskStream fails without it),
routing proxies use ``grpc-server``, and a combiner with JWT on needs ``authorization`` on every
call. The stock client sends the token only on TLS port 443; we send it on plaintext channels
too, which the combiner accepts. An interceptor adds all three to every call of every kind, so
no caller can forget them.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from fedgui.core.protocol.errors import BadAssignment
from fedgui.core.protocol.generated import fedn_pb2, fedn_pb2_grpc

TLS_PORT = 443

# Same as FEDn's client (§3.4): a ping every 5 s keeps NAT/proxies from dropping an idle stream.
# More aggressive pings would make the combiner (max_ping_strikes=2) close the connection.
KEEPALIVE_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.keepalive_time_ms", 5000),
    ("grpc.keepalive_timeout_ms", 30000),
    ("grpc.keepalive_permit_without_calls", True),
)

# The receive window: how much of a download may be on its way before fedgui has read it.
# gRPC grows it from its bandwidth estimate ("BDP probing"); when fedgui reads frames more slowly
# than they come (a busy machine) gRPC held up to ~120 MB of a 1 GB model in memory
# (tests/bench/transfer_memory.py). Turning the probing off alone leaves one frame plus 64 KiB in
# flight, which caps a far-away network: through a proxy adding a 50 ms round trip, 15 MB/s
# instead of 107 (`transfer_memory.py --latency-ms 25`). A fixed 16 MiB window bounds what gRPC
# holds and still fills a fast link at a 100 ms round trip (16 MiB per round trip = 160 MB/s):
# measured 101 MB/s at 80 ms (BDP on: 137), 127 MB/s on loopback, peak RSS 110 MB at 1 GB.
RECEIVE_WINDOW_BYTES = 16 * 1024 * 1024
RECEIVE_WINDOW_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.http2.bdp_probe", 0),
    ("grpc.http2.lookahead_bytes", RECEIVE_WINDOW_BYTES),
)


@dataclass(frozen=True)
class CombinerEndpoint:
    """Where the combiner is and how to reach it.

    ``server_name`` overrides the TLS host name check (for a certificate issued to another name);
    ``routing_name`` is sent as ``grpc-server`` metadata and defaults to ``host``.
    """

    host: str
    port: int
    use_tls: bool
    server_name: str | None = None
    ca_bundle: Path | None = None
    routing_name: str | None = None

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def grpc_server(self) -> str:
        return self.routing_name or self.host

    @classmethod
    def from_assignment(
        cls,
        assignment: Any,
        force_tls: bool | None = None,
        ca_bundle: Path | str | None = None,
    ) -> CombinerEndpoint:
        """Build the endpoint from the controller's assignment (an object or the raw JSON dict).

        Like FEDn's client: a non-empty ``fqdn`` means ``fqdn:443`` over TLS; otherwise
        ``host:port``, with TLS when the port is 443. Unlike FEDn's client, "443" as a string
        counts too. ``force_tls``: None = decide as above, True = always TLS, False = never.
        The assignment's ``host`` stays the ``grpc-server`` routing value in both cases.
        """
        host = str(_field(assignment, "host") or "").strip()
        fqdn = str(_field(assignment, "fqdn") or "").strip()
        bundle = Path(ca_bundle) if ca_bundle else None
        if fqdn:
            use_tls = True if force_tls is None else force_tls
            return cls(fqdn, TLS_PORT, use_tls, ca_bundle=bundle, routing_name=host or fqdn)
        if not host:
            raise BadAssignment("The controller assigned a combiner without an address.")
        port = _parse_port(_field(assignment, "port"))
        use_tls = port == TLS_PORT if force_tls is None else force_tls
        return cls(host, port, use_tls, ca_bundle=bundle)


def combiner_uses_tls(assignment: Any) -> bool:
    """Whether fedgui will talk TLS to the combiner of this assignment (same rule as above)."""
    try:
        return CombinerEndpoint.from_assignment(assignment).use_tls
    except BadAssignment:
        return False


def _field(assignment: Any, name: str) -> Any:
    if isinstance(assignment, Mapping):
        return assignment.get(name)
    return getattr(assignment, name, None)


def _parse_port(value: Any) -> int:
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536:
        raise BadAssignment(f"The controller assigned a combiner with an invalid port ({value!r}).")
    return port


class _CallDetails(
    collections.namedtuple(
        "_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")
    ),
    grpc.ClientCallDetails,
):
    """grpc.ClientCallDetails with new metadata (gRPC leaves building it to interceptors)."""

    def __repr__(self) -> str:  # never print metadata: it holds the token
        return f"_CallDetails(method={self.method!r})"


class MetadataInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds fixed metadata to every call; a key the caller also set is taken from us."""

    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self._metadata = metadata
        self._keys = {key for key, _ in metadata}

    def __repr__(self) -> str:
        return f"MetadataInterceptor(keys={sorted(self._keys)})"

    def _with_metadata(self, details: grpc.ClientCallDetails) -> _CallDetails:
        own = [(k, v) for k, v in (details.metadata or ()) if k not in self._keys]
        return _CallDetails(
            details.method,
            details.timeout,
            [*self._metadata, *own],
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._with_metadata(details), request)

    def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._with_metadata(details), request)

    def intercept_stream_unary(
        self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, requests: Iterator[Any]
    ) -> Any:
        return continuation(self._with_metadata(details), requests)

    def intercept_stream_stream(
        self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, requests: Iterator[Any]
    ) -> Any:
        return continuation(self._with_metadata(details), requests)


def call_metadata(
    endpoint: CombinerEndpoint, token: str | None, client_id: str
) -> tuple[tuple[str, str], ...]:
    """The metadata sent on every call (lower-case keys, as gRPC requires)."""
    metadata = [("client", client_id), ("grpc-server", endpoint.grpc_server)]
    if token:
        metadata.append(("authorization", f"Bearer {token}"))
    return tuple(metadata)


class _Secret:
    """Holds the token so that repr(), logging of vars() and tracebacks show no secret."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<hidden>"


class CombinerConnection:
    """One channel to the combiner with its three stubs.

    Thread-safe to share (heartbeat, telemetry and task threads all use it). ``reconnect()``
    replaces the channel; calls in flight on the old one fail with CANCELLED and their callers
    retry, as with FEDn's own client.
    """

    def __init__(
        self, endpoint: CombinerEndpoint, token: str | None, client_id: str, client_name: str
    ) -> None:
        if not client_id:
            raise ValueError("client_id is required: the combiner keys every client on it")
        self.endpoint = endpoint
        self.client_id = client_id
        self.client_name = client_name
        self._token = _Secret(token) if token else None
        self._lock = threading.Lock()
        self._channel: grpc.Channel | None = None
        self._open()

    def __repr__(self) -> str:
        token = "set" if self._token else "none"
        tls = "tls" if self.endpoint.use_tls else "plaintext"
        return (
            f"CombinerConnection({self.endpoint.target}, {tls}, client_id={self.client_id!r}, token={token})"
        )

    __str__ = __repr__

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def _credentials(self) -> grpc.ChannelCredentials:
        root = self.endpoint.ca_bundle.read_bytes() if self.endpoint.ca_bundle else None
        return grpc.ssl_channel_credentials(root_certificates=root)

    def _open(self) -> None:
        options = [*KEEPALIVE_OPTIONS, *RECEIVE_WINDOW_OPTIONS]
        if self.endpoint.use_tls:
            if self.endpoint.server_name:
                options.append(("grpc.ssl_target_name_override", self.endpoint.server_name))
            raw = grpc.secure_channel(self.endpoint.target, self._credentials(), options=options)
        else:
            raw = grpc.insecure_channel(self.endpoint.target, options=options)
        interceptor = MetadataInterceptor(
            call_metadata(self.endpoint, self._token.value if self._token else None, self.client_id)
        )
        channel = grpc.intercept_channel(raw, interceptor)
        self._raw_channel = raw
        self._channel = channel
        self._combiner = fedn_pb2_grpc.CombinerStub(channel)
        self._connector = fedn_pb2_grpc.ConnectorStub(channel)
        self._model_service = fedn_pb2_grpc.ModelServiceStub(channel)
        # The same Download and Upload RPCs, with the model frames as wire bytes (see wire.py).
        self._raw_download = channel.unary_stream(
            "/fedn.ModelService/Download",
            request_serializer=fedn_pb2.ModelRequest.SerializeToString,
            response_deserializer=None,
        )
        self._raw_upload = channel.stream_unary(
            "/fedn.ModelService/Upload",
            request_serializer=None,
            response_deserializer=fedn_pb2.ModelResponse.FromString,
        )

    @property
    def combiner(self) -> fedn_pb2_grpc.CombinerStub:
        with self._lock:
            return self._combiner

    @property
    def connector(self) -> fedn_pb2_grpc.ConnectorStub:
        with self._lock:
            return self._connector

    @property
    def model_service(self) -> fedn_pb2_grpc.ModelServiceStub:
        with self._lock:
            return self._model_service

    @property
    def raw_model_download(self) -> grpc.UnaryStreamMultiCallable:
        """ModelService.Download whose frames arrive undecoded (bytes), for the transfer code."""
        with self._lock:
            return self._raw_download

    @property
    def raw_model_upload(self) -> grpc.StreamUnaryMultiCallable:
        """ModelService.Upload taking frames already encoded (bytes), for the transfer code."""
        with self._lock:
            return self._raw_upload

    def wait_until_ready(self, timeout: float) -> bool:
        """True once the channel is connected; False after ``timeout`` seconds."""
        with self._lock:
            raw = self._raw_channel
        try:
            grpc.channel_ready_future(raw).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            return False
        return True

    def reconnect(self) -> None:
        """Close the channel and open a fresh one to the same endpoint."""
        with self._lock:
            self._close_locked()
            self._open()

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def __enter__(self) -> CombinerConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

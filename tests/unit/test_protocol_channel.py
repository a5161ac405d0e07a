"""Endpoint choice, metadata on every call kind, token hygiene, and gRPC error mapping.

Metadata is checked against an in-process fake combiner (fedgui.core.protocol.testing), because
the real combiner does not report what metadata it received.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from fedgui.core.errors import FedguiError
from fedgui.core.protocol import errors
from fedgui.core.protocol import messages as msg
from fedgui.core.protocol.channel import KEEPALIVE_OPTIONS, CombinerConnection, CombinerEndpoint
from fedgui.core.protocol.generated import fedn_pb2 as pb
from fedgui.core.protocol.testing import FakeCombiner
from fedgui.core.protocol.transfer import download_model, upload_model

TOKEN = "eyJhbGciOiJIUzI1NiJ9.secret-part.signature"
CLIENT_ID = "bbbbbbbb-2222"
ME = msg.ClientIdentity(CLIENT_ID, "clinic-b")


@dataclass
class Assignment:
    host: str
    port: int | str
    fqdn: str | None = None


# ---- CombinerEndpoint.from_assignment ----


def test_plain_host_and_port():
    endpoint = CombinerEndpoint.from_assignment({"host": "localhost", "port": 12080, "fqdn": None})
    assert (endpoint.target, endpoint.use_tls, endpoint.grpc_server) == (
        "localhost:12080",
        False,
        "localhost",
    )


@pytest.mark.parametrize("port", [443, "443", " 443 "])
def test_port_443_means_tls_even_as_a_string(port):
    endpoint = CombinerEndpoint.from_assignment(Assignment("comb.example.org", port))
    assert endpoint.use_tls and endpoint.port == 443


def test_fqdn_wins_and_host_stays_the_routing_name():
    endpoint = CombinerEndpoint.from_assignment(Assignment("combiner1", 12080, "fedn.example.org"))
    assert (endpoint.target, endpoint.use_tls) == ("fedn.example.org:443", True)
    assert endpoint.grpc_server == "combiner1"


def test_force_tls_both_ways_and_ca_bundle(tmp_path):
    forced = CombinerEndpoint.from_assignment(
        Assignment("h", 12080), force_tls=True, ca_bundle=tmp_path / "ca.pem"
    )
    assert forced.use_tls and forced.ca_bundle == tmp_path / "ca.pem"
    assert not CombinerEndpoint.from_assignment(Assignment("h", 443), force_tls=False).use_tls


@pytest.mark.parametrize("assignment", [{"host": "", "port": 1}, {"host": "h", "port": "x"}, {"host": "h"}])
def test_unusable_assignments_are_plain_errors(assignment):
    with pytest.raises(errors.BadAssignment) as err:
        CombinerEndpoint.from_assignment(assignment)
    assert isinstance(err.value, FedguiError) and err.value.next_step


def test_keepalive_options_match_fedn():
    assert dict(KEEPALIVE_OPTIONS) == {
        "grpc.keepalive_time_ms": 5000,
        "grpc.keepalive_timeout_ms": 30000,
        "grpc.keepalive_permit_without_calls": True,
    }


# ---- metadata on every call kind ----


@pytest.fixture
def fake():
    with FakeCombiner() as combiner:
        yield combiner


def connect(fake: FakeCombiner, token: str | None = TOKEN) -> CombinerConnection:
    endpoint = CombinerEndpoint("127.0.0.1", fake.port, use_tls=False, routing_name="combiner1")
    return CombinerConnection(endpoint, token, CLIENT_ID, "clinic-b")


def test_metadata_on_unary_server_stream_and_client_stream_calls(fake, tmp_path):
    fake.models["seed"] = b"abc"
    fake.push_task(pb.TaskRequest(model_id="m", type=pb.MODEL_UPDATE))
    src = tmp_path / "model.npz"
    src.write_bytes(b"x" * 10)
    with connect(fake) as conn:
        conn.connector.SendHeartbeat(msg.heartbeat(ME), timeout=5)  # unary-unary
        stream = conn.combiner.TaskStream(msg.client_available(ME), timeout=5)  # unary-stream
        assert next(stream).model_id == "m"
        stream.cancel()
        download_model(conn, "seed", tmp_path / "seed.npz")  # unary-stream
        upload_model(conn, "upd-1", src)  # stream-unary
    expected = {"client": CLIENT_ID, "grpc-server": "combiner1", "authorization": f"Bearer {TOKEN}"}
    methods = {call.method for call in fake.calls}
    assert methods == {
        "/fedn.Connector/SendHeartbeat",
        "/fedn.Combiner/TaskStream",
        "/fedn.ModelService/Download",
        "/fedn.ModelService/Upload",
    }
    for call in fake.calls:
        assert {k: call.metadata.get(k) for k in expected} == expected, call.method
        assert call.metadata.get("user-agent", "").startswith("grpc-python/")  # the JWT check needs one


def test_no_authorization_without_token(fake):
    with connect(fake, token=None) as conn:
        conn.connector.SendHeartbeat(msg.heartbeat(ME), timeout=5)
    (call,) = fake.calls
    assert "authorization" not in call.metadata
    assert call.metadata["client"] == CLIENT_ID


def test_caller_metadata_cannot_replace_ours(fake):
    with connect(fake) as conn:
        conn.connector.SendHeartbeat(msg.heartbeat(ME), timeout=5, metadata=[("client", "x"), ("extra", "1")])
    (call,) = fake.calls
    assert call.metadata["client"] == CLIENT_ID and call.metadata["extra"] == "1"


def test_reconnect_keeps_metadata_and_close_is_idempotent(fake):
    conn = connect(fake)
    conn.reconnect()
    assert conn.wait_until_ready(5)
    conn.connector.SendStatus(msg.status(ME, "hello"), timeout=5)
    conn.close()
    conn.close()
    assert fake.calls[-1].metadata["authorization"] == f"Bearer {TOKEN}"


def test_token_never_in_repr_str_or_logs(fake, caplog):
    caplog.set_level(logging.DEBUG)
    with connect(fake) as conn:
        logging.getLogger("test").info("connection %s %r %s", conn, conn, vars(conn))
        text = f"{conn} {conn!r} {vars(conn)}"
        assert "token=set" in repr(conn)
    assert TOKEN not in text
    assert "secret-part" not in caplog.text


def test_tls_endpoint_uses_the_ca_bundle(tmp_path):
    """Channel creation reads the CA file at once, so a missing file fails early and plainly."""
    endpoint = CombinerEndpoint("127.0.0.1", 1, use_tls=True, ca_bundle=tmp_path / "missing.pem")
    with pytest.raises(FileNotFoundError):
        CombinerConnection(endpoint, TOKEN, CLIENT_ID, "c")
    (tmp_path / "ca.pem").write_text("not a certificate")
    endpoint = CombinerEndpoint("127.0.0.1", 1, use_tls=True, ca_bundle=Path(tmp_path / "ca.pem"))
    CombinerConnection(endpoint, TOKEN, CLIENT_ID, "c").close()


# ---- error mapping ----


@pytest.mark.parametrize(
    ("code", "details", "expected"),
    [
        (grpc.StatusCode.UNAUTHENTICATED, "Invalid token", errors.TokenRejected),
        (grpc.StatusCode.UNAUTHENTICATED, "Token is missing", errors.TokenRejected),
        (grpc.StatusCode.PERMISSION_DENIED, "Insufficient permissions", errors.TokenLacksClientRole),
        (grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses", errors.CombinerUnreachable),
        (grpc.StatusCode.UNAVAILABLE, "Ssl handshake failed: CERTIFICATE_VERIFY_FAILED", errors.TlsFailed),
        (grpc.StatusCode.UNKNOWN, "Stream removed", errors.CombinerUnreachable),
        (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded", errors.CombinerTimeout),
        (grpc.StatusCode.CANCELLED, "Cancelled", errors.CallCancelled),
        (grpc.StatusCode.UNIMPLEMENTED, "Method not found!", errors.CombinerTooOld),
        (grpc.StatusCode.UNKNOWN, "Exception calling application: 'telemetries'", errors.CombinerFailed),
        (grpc.StatusCode.INTERNAL, "Failed to serialize response!", errors.CombinerFailed),
    ],
)
def test_error_mapping_from_a_real_call(fake, code, details, expected):
    fake.failures["/fedn.Connector/SendHeartbeat"] = (code, details)
    with connect(fake) as conn, pytest.raises(grpc.RpcError) as raised:
        conn.connector.SendHeartbeat(msg.heartbeat(ME), timeout=5)
    error = errors.error_from_rpc(raised.value, "sending a heartbeat")
    assert type(error) is expected
    assert error.code == code.name and error.details == details
    assert "heartbeat" in error.message
    assert details not in error.user_text() or code == grpc.StatusCode.UNKNOWN  # plain words, not server text


def test_expired_token_advice_mentions_expiry(fake):
    fake.token = "the-right-one"
    with connect(fake, token="an-expired-one") as conn, pytest.raises(grpc.RpcError) as raised:
        conn.connector.SendHeartbeat(msg.heartbeat(ME), timeout=5)
    error = errors.error_from_rpc(raised.value, "sending a heartbeat")
    assert isinstance(error, errors.TokenRejected)
    assert "expired" in error.user_text()


def test_unreachable_combiner(tmp_path):
    with FakeCombiner() as gone:
        port = gone.port
    endpoint = CombinerEndpoint("127.0.0.1", port, use_tls=False)
    with CombinerConnection(endpoint, None, CLIENT_ID, "c") as conn, pytest.raises(grpc.RpcError) as raised:
        conn.connector.SendHeartbeat(msg.heartbeat(ME), timeout=5)
    assert isinstance(errors.error_from_rpc(raised.value, "connecting"), errors.CombinerUnreachable)


def test_error_from_a_non_call_rpc_error():
    error = errors.error_from_rpc(grpc.RpcError("odd"), "doing something")
    assert isinstance(error, errors.CombinerFailed) and error.code == ""


def test_the_receive_window_is_bounded_but_fills_a_far_away_link():
    """Bounded: gRPC holds at most this much of a download fedgui has not read (with gRPC's
    bandwidth probing it held 120 MB). Big enough: one window per 100 ms round trip is
    ≥ 100 MB/s; one frame's worth (probing off, default lookahead) gave 15 MB/s at 50 ms."""
    from fedgui.core.protocol.channel import RECEIVE_WINDOW_BYTES, RECEIVE_WINDOW_OPTIONS

    options = dict(RECEIVE_WINDOW_OPTIONS)
    assert options["grpc.http2.bdp_probe"] == 0
    assert options["grpc.http2.lookahead_bytes"] == RECEIVE_WINDOW_BYTES
    assert 10 * 1024 * 1024 <= RECEIVE_WINDOW_BYTES <= 32 * 1024 * 1024

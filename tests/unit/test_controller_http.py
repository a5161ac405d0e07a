"""ControllerClient failure handling against small real local servers.

These cases are ones a real FEDn controller cannot be made to produce on demand (malformed JSON,
5xx, a pre-0.21 controller, a slow answer, a broken download, an untrusted certificate), so a
``http.server`` on 127.0.0.1 plays the controller. Behaviour against a real FEDn 0.33 controller
is in tests/interop/test_controller_real.py.
"""

from __future__ import annotations

import logging
import socket
import tracemalloc
import uuid

import pytest

from fedgui.core.controller.client import ControllerClient
from fedgui.core.controller.errors import (
    ControllerServerError,
    ControllerTimeout,
    ControllerTooOld,
    ControllerUnreachable,
    NoCombinerAvailable,
    NoPackageYet,
    NotAController,
    TlsVerificationFailed,
    TokenExpired,
    TokenRejected,
    UnexpectedResponse,
    WrongAddress,
)
from tests.fednet.fake_http import FakeServer, Reply, byte_stream, self_signed_certificate, tls_context

TOKEN = "sekrit-token-value-1234567890"
ASSIGNED = {
    "status": "assigned",
    "host": "combiner.example.org",
    "fqdn": None,
    "package": "remote",
    "ip": "",
    "port": 12080,
    "helper_type": "numpyhelper",
}


def _assign(url: str, **kwargs) -> object:
    return ControllerClient(url, **kwargs).assign(str(uuid.uuid4()), "unit-client", max_wait=0)


def _assert_readable(error: Exception) -> None:
    text = str(error)
    assert "Traceback" not in text
    assert TOKEN not in text
    assert getattr(error, "next_step", "")


def test_assignment_body_and_header():
    with FakeServer({("POST", "/api/v1/clients/add"): Reply.json({**ASSIGNED, "client_id": "x"})}) as server:
        ControllerClient(server.url, token=TOKEN).assign("cid-1", "name-1", preferred_combiner="c1")
        ControllerClient(server.url).assign("cid-2", "name-2")
    with_token, without_token = server.requests
    assert with_token["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert "Authorization" not in without_token["headers"]
    import json

    assert json.loads(with_token["body"]) == {
        "name": "name-1",
        "client_id": "cid-1",
        "preferred_combiner": "c1",
        "combiner_preferred": "c1",
        "package": "remote",
    }


def test_missing_client_id_in_answer_keeps_ours():
    with FakeServer({("POST", "/api/v1/clients/add"): Reply.json(ASSIGNED)}) as server:
        assignment = ControllerClient(server.url).assign("our-id", "n")
    assert assignment.client_id == "our-id"
    assert (assignment.host, assignment.port, assignment.fqdn) == ("combiner.example.org", 12080, None)


def test_203_is_retried_until_a_package_exists():
    answers = iter([Reply.json({"status": "retry", "message": "No compute package found."}, 203)] * 2)

    def assign(_request):
        return next(answers, Reply.json(ASSIGNED))

    waiting: list[str] = []
    with FakeServer({("POST", "/api/v1/clients/add"): assign}) as server:
        client = ControllerClient(server.url)
        assignment = client.assign("id", "n", on_waiting=waiting.append, retry_interval=0.05)
    assert assignment.port == 12080
    assert len(waiting) == 2


def test_203_wait_can_be_cancelled_by_a_callback():
    calls = []
    reply = Reply.json({"status": "retry", "message": "No compute package found."}, 203)
    server = FakeServer({("POST", "/api/v1/clients/add"): reply})
    with server, pytest.raises(NoPackageYet, match="Stopped waiting"):
        ControllerClient(server.url).assign("id", "n", cancel=lambda: len(calls) > 0, on_waiting=calls.append)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(200, b"{not json", {"Content-Type": "application/json"}), UnexpectedResponse),
        (Reply(200, b"<html>proxy login</html>", {"Content-Type": "text/html"}), UnexpectedResponse),
        (Reply.json({"status": "assigned"}), UnexpectedResponse),
        (Reply.json({"success": False, "message": "Failed to add new client"}, 500), ControllerServerError),
        (Reply(502, b"Bad Gateway", {"Content-Type": "text/plain"}), ControllerServerError),
        (Reply.json({"success": False, "message": "No combiner available."}, 400), NoCombinerAvailable),
        (Reply.json({"message": "Invalid object"}, 400), UnexpectedResponse),
        (Reply.json({"message": "Token expired"}, 401), TokenExpired),
        (Reply.json({"message": "Invalid token"}, 401), TokenRejected),
        # A 4xx that is not FEDn's JSON means "no such route" (issue 11 §6): the legacy route
        # is tried, and without it the address is wrong.
        (Reply(418, b"teapot", {"Content-Type": "text/plain"}), WrongAddress),
    ],
)
def test_bad_answers_become_typed_errors(reply, error):
    with FakeServer({("POST", "/api/v1/clients/add"): reply}) as server, pytest.raises(error) as caught:
        _assign(server.url, token=TOKEN)
    _assert_readable(caught.value)
    if error is TokenRejected:
        assert not isinstance(caught.value, TokenExpired)


def test_the_server_message_never_echoes_the_token():
    reply = Reply.json({"message": f"bad token {TOKEN}"}, 500)
    with (
        FakeServer({("POST", "/api/v1/clients/add"): reply}) as server,
        pytest.raises(ControllerServerError) as caught,
    ):
        _assign(server.url, token=TOKEN)
    assert TOKEN not in str(caught.value)


def test_no_api_at_all_is_a_wrong_address():
    """A web server without FEDn's routes: not a FEDn network; the address and status are details."""
    with FakeServer({}) as server, pytest.raises(WrongAddress) as caught:
        _assign(server.url)
    assert isinstance(caught.value, NotAController)
    assert "not a FEDn network" in str(caught.value)
    assert "HTTP 404" in caught.value.details and server.url in caught.value.details
    assert [r["path"] for r in server.requests] == ["/api/v1/clients/add", "/add_client"]


def test_new_server_without_the_v1_route_is_a_wrong_address():
    """410 on the old path means a 0.21+ server: a plain 404 on v1 then means a wrong prefix."""
    gone = Reply.json({"message": "This endpoint is deprecated."}, 410)
    with FakeServer({("POST", "/add_client"): gone}) as server, pytest.raises(WrongAddress):
        client = ControllerClient(server.url)
        client.assign("id", "n")
    assert not client.legacy_api


def test_pre_021_controller_uses_the_legacy_paths(tmp_path):
    """FEDn <= 0.20 has /add_client etc. and no /api/v1 routes (plain 404), and no client_id."""
    routes = {
        ("POST", "/prefix/add_client"): Reply.json(ASSIGNED),
        ("GET", "/prefix/get_package_checksum"): Reply.json({"checksum": "a" * 64}),
        ("GET", "/prefix/download_package"): Reply(
            200, b"\x1f\x8b package", {"Content-Disposition": "attachment; filename=p.tar.gz"}
        ),
    }
    with FakeServer(routes) as server:
        client = ControllerClient(f"{server.url}/prefix/")
        assert client.assign("legacy-id", "n").client_id == "legacy-id"
        assert client.legacy_api
        assert client.package_checksum() == "a" * 64
        assert client.download_package(tmp_path).read_bytes() == b"\x1f\x8b package"
        with pytest.raises(ControllerTooOld):
            client.latest_model_id()
    paths = [r["path"] for r in server.requests]
    assert paths[:2] == ["/prefix/api/v1/clients/add", "/prefix/add_client"]
    # Once the old server is known, the v1 paths are not tried again.
    assert "/prefix/api/v1/packages/checksum" not in paths


def _fedn_020_routes(tmp_path) -> dict:
    """A stand-in for a FEDn 0.20 controller's route table (a real 0.20 server needs MongoDB,
    which this machine lacks): the legacy client routes, and ``/api/v1/clients/<id>`` for GET
    and DELETE only, which makes ``POST /api/v1/clients/add`` a Flask 405."""
    return {
        ("GET", "/api/v1/clients/add"): Reply.json({"message": "Client add not found"}, 404),
        ("DELETE", "/api/v1/clients/add"): Reply.json({"message": "Client add not found"}, 404),
        ("POST", "/add_client"): Reply.json(ASSIGNED),
        ("GET", "/get_package_checksum"): Reply.json({"checksum": "b" * 64}),
        ("GET", "/download_package"): Reply(
            200, b"\x1f\x8b package", {"Content-Disposition": "attachment; filename=p.tar.gz"}
        ),
    }


def test_a_fedn_020_controller_answering_405_gets_the_legacy_routes(tmp_path):
    with FakeServer(_fedn_020_routes(tmp_path)) as server:
        client = ControllerClient(server.url)
        assert client.assign("id-020", "n").client_id == "id-020"
        assert client.legacy_api
        assert client.package_checksum() == "b" * 64
    assert [r["path"] for r in server.requests][:2] == ["/api/v1/clients/add", "/add_client"]


@pytest.mark.parametrize(
    "reply",
    [
        Reply(400, b"<html>Bad Request</html>", {"Content-Type": "text/html"}),
        Reply(404, b"Not Found", {"Content-Type": "text/plain"}),
        Reply(405, b'{"message": "Method Not Allowed"}', {"Content-Type": "application/json"}),
    ],
    ids=["html 400", "plain 404", "json 405"],
)
def test_405_and_non_json_4xx_on_a_v1_route_mean_the_route_is_missing(reply):
    routes = {("POST", "/api/v1/clients/add"): reply, ("POST", "/add_client"): Reply.json(ASSIGNED)}
    with FakeServer(routes) as server:
        assert ControllerClient(server.url).assign("x", "n").client_id == "x"


def test_a_token_answer_is_never_taken_for_a_missing_route():
    page = Reply(401, b"<html>Unauthorized</html>", {"Content-Type": "text/html"})
    with FakeServer({("POST", "/api/v1/clients/add"): page}) as server, pytest.raises(TokenRejected):
        ControllerClient(server.url, token="t").assign("x", "n")
    assert [r["path"] for r in server.requests] == ["/api/v1/clients/add"]


def test_checksum_404_means_none_and_bad_checksum_is_unexpected():
    routes = {
        ("GET", "/api/v1/packages/checksum"): Reply.json(
            {"message": "File not found.", "checksum": None}, 404
        )
    }
    with FakeServer(routes) as server:
        assert ControllerClient(server.url).package_checksum() is None
    routes = {("GET", "/api/v1/packages/checksum"): Reply.json({"checksum": "not-a-sha"})}
    with FakeServer(routes) as server, pytest.raises(UnexpectedResponse):
        ControllerClient(server.url).package_checksum()


def test_slow_controller_times_out():
    reply = Reply.json(ASSIGNED, delay_s=3)
    with (
        FakeServer({("POST", "/api/v1/clients/add"): reply}) as server,
        pytest.raises(ControllerTimeout) as caught,
    ):
        _assign(server.url, timeout=0.3)
    _assert_readable(caught.value)
    assert "0.3 seconds" in str(caught.value)


def test_refused_connection():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        with pytest.raises(ControllerUnreachable) as caught:
            _assign(f"http://127.0.0.1:{port}")
    assert caught.value.reason == "refused"
    assert "connection was refused" in str(caught.value)
    assert f"127.0.0.1:{port}" in caught.value.details
    _assert_readable(caught.value)


def test_unknown_host_name():
    with pytest.raises(ControllerUnreachable) as caught:
        _assign("https://fedgui-test-controller.invalid", timeout=5)
    assert caught.value.reason == "dns"
    _assert_readable(caught.value)


def test_untrusted_certificate_and_trusted_ca_file(tmp_path):
    made = self_signed_certificate(tmp_path)
    if made is None:
        pytest.skip("the openssl command is not installed, so no test certificate can be made")
    cert, key = made
    routes = {("POST", "/api/v1/clients/add"): Reply.json(ASSIGNED)}
    with FakeServer(routes, tls=tls_context(cert, key)) as server:
        with pytest.raises(TlsVerificationFailed) as caught:
            _assign(server.url)
        _assert_readable(caught.value)
        assert "certificate" in str(caught.value)
        assert _assign(server.url, verify=str(cert)).port == 12080


def test_token_never_logged(caplog):
    caplog.set_level(logging.DEBUG)
    server = FakeServer({("POST", "/api/v1/clients/add"): Reply(500, b"boom")})
    with server, pytest.raises(ControllerServerError):
        _assign(server.url, token=TOKEN)
    with pytest.raises(ControllerUnreachable):
        _assign("http://127.0.0.1:9", token=TOKEN)
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(ControllerClient("http://h", token=TOKEN))


def test_package_download_streams_without_holding_the_file(tmp_path):
    size = 48 * 1024 * 1024
    reply = Reply(
        200,
        byte_stream(size),
        {"Content-Disposition": "attachment; filename=big.tgz", "Content-Type": "application/x-tar"},
        content_length=size,
    )
    progress: list[tuple[int, int | None]] = []
    with FakeServer({("GET", "/api/v1/packages/download"): reply}) as server:
        tracemalloc.start()
        try:
            path = ControllerClient(server.url).download_package(
                tmp_path, lambda d, t: progress.append((d, t))
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert path == tmp_path / "big.tgz"
    assert path.stat().st_size == size
    assert progress[0] == (0, size) and progress[-1] == (size, size)
    assert len(progress) > 10
    # Counts this process only (the server thread included), far below the 48 MiB file.
    assert peak < 16 * 1024 * 1024, peak


def test_broken_download_leaves_no_file(tmp_path):
    reply = Reply(
        200, iter([b"x" * 1000]), {"Content-Disposition": "attachment; filename=p.tgz"}, content_length=5000
    )
    server = FakeServer({("GET", "/api/v1/packages/download"): reply})
    with server, pytest.raises(ControllerUnreachable) as caught:
        ControllerClient(server.url).download_package(tmp_path)
    assert caught.value.reason == "broken"
    assert list(tmp_path.iterdir()) == []


def test_no_active_package_on_download(tmp_path):
    routes = {("GET", "/api/v1/packages/download"): Reply.json({"message": "No active package"}, 404)}
    with FakeServer(routes) as server, pytest.raises(NoPackageYet):
        ControllerClient(server.url).download_package(tmp_path)

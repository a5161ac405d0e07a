"""fedgui's protocol layer against a REAL FEDn 0.33 combiner (tests/fednet harness).

What the combiner received can only be seen through its answers and the controller's REST
read-back; the exact metadata on the wire is checked in tests/unit/test_protocol_channel.py.
"""

from __future__ import annotations

import io
import os
import queue
import threading
import time
import uuid
from pathlib import Path

import grpc
import numpy as np
import pytest
import requests

from fedgui.core.protocol import messages as msg
from fedgui.core.protocol.channel import CombinerConnection, CombinerEndpoint
from fedgui.core.protocol.errors import ModelNotFound, TokenLacksClientRole, TokenRejected, error_from_rpc
from fedgui.core.protocol.generated import fedn_pb2 as pb
from fedgui.core.protocol.messages import parse_task
from fedgui.core.protocol.transfer import download_model, upload_model


def assign(net, client_id: str, name: str, token: str | None = None, package: str = "remote") -> dict:
    """POST /api/v1/clients/add with the body that works on SQL and MongoDB controllers (§2.3)."""
    body = {
        "name": name,
        "client_id": client_id,
        "preferred_combiner": "",
        "combiner_preferred": "",
        "package": package,
    }
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.post(f"{net.api_url}/api/v1/clients/add", json=body, headers=headers, timeout=15)
    assert response.status_code == 200, f"{response.status_code} {response.text}\n{net.logs_tail(15)}"
    return response.json()


def connect(net, token: str | None = None, package: str = "remote") -> CombinerConnection:
    client_id = str(uuid.uuid4())
    name = f"fedgui-{client_id[:8]}"
    assignment = assign(net, client_id, name, token=token, package=package)
    endpoint = CombinerEndpoint.from_assignment(assignment)
    assert endpoint.port == net.grpc_port and not endpoint.use_tls
    return CombinerConnection(endpoint, token, client_id, name)


def identity(conn: CombinerConnection) -> msg.ClientIdentity:
    return msg.ClientIdentity(conn.client_id, conn.client_name)


class Listener:
    """A minimal client loop: heartbeats every second and a TaskStream reader, on threads."""

    def __init__(self, conn: CombinerConnection) -> None:
        self.conn = conn
        self.me = identity(conn)
        self.tasks: queue.Queue = queue.Queue()
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._stream = conn.combiner.TaskStream(msg.client_available(self.me))
        self._threads = [
            threading.Thread(target=self._beat, daemon=True),
            threading.Thread(target=self._read, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.conn.connector.SendHeartbeat(msg.heartbeat(self.me), timeout=10)
            except grpc.RpcError as exc:
                self.errors.append(exc)

    def _read(self) -> None:
        try:
            for request in self._stream:
                self.tasks.put(request)
        except grpc.RpcError as exc:
            if not self._stop.is_set():
                self.errors.append(exc)

    def next_task(self, timeout: float):
        try:
            return self.tasks.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no task within {timeout} s; errors: {self.errors}") from None

    def stop(self) -> None:
        self._stop.set()
        self._stream.cancel()
        for thread in self._threads:
            thread.join(timeout=5)


def wait_client_status(net, client_id: str, status: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(c.get("client_id") == client_id and c.get("status") == status for c in net.clients()):
            return
        time.sleep(0.5)
    raise AssertionError(f"client {client_id} never became {status!r}\n{net.logs_tail(15)}")


def test_heartbeat_status_telemetry_and_task_stream(prepared_fedn_network):
    net = prepared_fedn_network
    with connect(net) as conn:
        me = identity(conn)
        assert conn.connector.SendHeartbeat(msg.heartbeat(me), timeout=10).response == "Heartbeat received"
        conn.connector.SendStatus(msg.status(me, "fedgui interop test says hello"), timeout=10)
        conn.combiner.SendTelemetryMessage(msg.machine_telemetry(me), timeout=10)
        listener = Listener(conn)
        try:
            # The combiner marks a client online when its TaskStream opens (needs the `client` key).
            wait_client_status(net, conn.client_id, "online")
            assert listener.errors == []
        finally:
            listener.stop()


def test_upload_then_download_by_id_round_trips_2_5_mb(prepared_fedn_network, tmp_path):
    net = prepared_fedn_network
    src = tmp_path / "trained.bin"
    src.write_bytes(os.urandom(2_500_000))
    model_update_id = str(uuid.uuid4())
    up, down = [], []
    with connect(net) as conn:
        upload_model(conn, model_update_id, src, progress=lambda d, t: up.append((d, t)))
        dest = download_model(
            conn, model_update_id, tmp_path / "back.bin", progress=lambda d, t: down.append(d)
        )
    assert dest.read_bytes() == src.read_bytes()
    assert up[-1] == (2_500_000, 2_500_000) and len(up) == 3  # 1 MiB frames
    assert down[-1] == 2_500_000


def test_unknown_model_id_is_not_found(prepared_fedn_network, tmp_path):
    with connect(prepared_fedn_network) as conn, pytest.raises(ModelNotFound):
        download_model(conn, str(uuid.uuid4()), tmp_path / "none.npz", timeout=2)
    assert list(tmp_path.iterdir()) == []


def _train(in_path: Path, out_path: Path) -> None:
    with np.load(in_path) as arrays:
        updated = {key: arrays[key] + 0.5 for key in arrays.files}
    np.savez(out_path, **updated)


def test_a_full_round_with_validation(fresh_fedn_network, numpy_package, seed_model, tmp_path):
    """Our messages drive a real round: download, upload, SendModelUpdate (meta/num_examples),
    SendModelMetric, then the validation task and SendModelValidation."""
    net = fresh_fedn_network()
    net.upload_package(numpy_package)
    seed_id = net.set_seed_model(seed_model)
    with connect(net) as conn:
        me = identity(conn)
        listener = Listener(conn)
        try:
            wait_client_status(net, conn.client_id, "online")
            session_id = net.start_session(rounds=1, round_timeout=60, min_clients=1, validate=True)

            task = parse_task(listener.next_task(60))
            assert task.kind == "train" and task.model_id == seed_id
            assert task.round_id == "1" and task.session_id == session_id
            received = msg.status(
                me, "Received request from combiner.", pb.AUDIT, type=task.type, session_id=session_id
            )
            conn.connector.SendStatus(received, timeout=10)

            started = time.monotonic()
            model_in = download_model(conn, task.model_id, tmp_path / "in.npz")
            fetch = time.monotonic() - started
            rest = net.api("GET", f"models/{seed_id}/download")
            assert rest.status_code == 200
            assert model_in.read_bytes() == rest.content  # what the combiner serves = what was stored
            with np.load(io.BytesIO(rest.content)) as stored, np.load(seed_model) as seed:
                assert all(np.array_equal(stored[k], seed[k]) for k in seed.files)

            _train(model_in, tmp_path / "out.npz")
            metric = msg.model_metric(me, {"loss": 0.5}, step=1, model_id=task.model_id,
                                      round_id=task.round_id, session_id=task.session_id)  # fmt: skip
            conn.combiner.SendModelMetric(metric, timeout=10)
            update_id = str(uuid.uuid4())
            upload_model(conn, update_id, tmp_path / "out.npz")
            update = msg.model_update(
                me, task, update_id, {"num_examples": 10},
                exec_training=0.1, processing_time=0.1, upload_model=0.1, fetch_model=fetch,
            )  # fmt: skip
            assert conn.combiner.SendModelUpdate(update, timeout=10).response.startswith(
                "RECEIVED ModelUpdate"
            )

            validation_task = parse_task(listener.next_task(60))
            assert validation_task.kind == "validate"
            new_model = download_model(conn, validation_task.model_id, tmp_path / "global.npz")
            with np.load(new_model) as aggregated, np.load(tmp_path / "out.npz") as ours:
                # fedavg over one client = our update
                assert all(np.allclose(aggregated[k], ours[k]) for k in ours.files)
            result = msg.model_validation(me, validation_task, {"test_accuracy": 0.75})
            conn.combiner.SendModelValidation(result, timeout=10)

            net.wait_session_finished(session_id, timeout=90)
            validations = net.validations(session_id)
            assert any(v.get("correlation_id") == validation_task.correlation_id for v in validations), (
                validations
            )
            assert listener.errors == []
        finally:
            listener.stop()


# ---- JWT on the combiner ----


def test_client_token_works_and_bad_tokens_are_mapped(fedn_network_auth, tmp_path):
    net = fedn_network_auth
    token = net.make_token("client")
    with connect(net, token=token, package="local") as conn:
        me = identity(conn)
        assert conn.connector.SendHeartbeat(msg.heartbeat(me), timeout=10).response == "Heartbeat received"
        listener = Listener(conn)
        try:
            wait_client_status(net, conn.client_id, "online")
        finally:
            listener.stop()

        cases = {
            "wrong": ("not-a-jwt", TokenRejected),
            "expired": (net.make_token("client", expired=True), TokenRejected),
            "other secret": (_foreign_token(), TokenRejected),
            "admin role": (net.make_token("admin"), TokenLacksClientRole),
            "none": (None, TokenRejected),
        }
        for label, (bad_token, expected) in cases.items():
            with CombinerConnection(conn.endpoint, bad_token, conn.client_id, conn.client_name) as bad:
                with pytest.raises(grpc.RpcError) as raised:
                    bad.connector.SendHeartbeat(msg.heartbeat(me), timeout=10)
                error = error_from_rpc(raised.value, "sending a heartbeat")
                assert type(error) is expected, (label, error.code, error.details)
                if expected is TokenRejected:
                    assert "token" in error.user_text().lower()


def _foreign_token() -> str:
    from tests.fednet import make_jwt

    return make_jwt("a-different-secret", role="client")

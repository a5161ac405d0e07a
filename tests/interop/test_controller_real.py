"""ControllerClient against a real FEDn 0.33 controller started by tests/fednet."""

from __future__ import annotations

import hashlib
import threading
import uuid

import numpy as np
import pytest

from fedgui.core.controller.client import ControllerClient
from fedgui.core.controller.errors import (
    ModelNotFound,
    NoCombinerAvailable,
    NoPackageYet,
    TokenExpired,
    TokenRejected,
)


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_no_package_yet_waits_then_gives_up(fresh_fedn_network):
    """A network without a compute package answers 203; assign waits, reports it, then gives up."""
    net = fresh_fedn_network()
    client = ControllerClient(net.api_url)
    waiting_messages: list[str] = []
    with pytest.raises(NoPackageYet) as caught:
        client.assign(
            str(uuid.uuid4()), "waiter", on_waiting=waiting_messages.append, max_wait=1.0, retry_interval=0.2
        )
    assert waiting_messages and "compute package" in waiting_messages[0]
    assert "no compute package" in str(caught.value)
    assert client.package_checksum() is None
    with pytest.raises(NoPackageYet):
        client.download_package(net.run_dir / "dl")
    with pytest.raises(ModelNotFound):
        client.latest_model_id()

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(NoPackageYet, match="Stopped waiting"):
        client.assign(str(uuid.uuid4()), "waiter", cancel=cancel)


def test_assign_without_auth(prepared_fedn_network):
    net = prepared_fedn_network
    client_id = str(uuid.uuid4())
    assignment = ControllerClient(net.api_url).assign(client_id, "gui-client-1")
    assert assignment.host == "127.0.0.1"
    assert assignment.port == net.grpc_port
    assert assignment.client_id == client_id
    assert assignment.helper_type == "numpyhelper"
    assert assignment.fqdn is None
    assert any(c["client_id"] == client_id for c in net.clients())


def test_unknown_preferred_combiner_is_reported(prepared_fedn_network):
    """FEDn answers 200 with a JSON array holding a 400 here; that must not pass as assigned."""
    client = ControllerClient(prepared_fedn_network.api_url)
    with pytest.raises(NoCombinerAvailable, match="no-such-combiner"):
        client.assign(str(uuid.uuid4()), "gui-client-2", preferred_combiner="no-such-combiner")


def test_package_download_equals_upload_and_checksum(prepared_fedn_network, numpy_package, tmp_path):
    client = ControllerClient(prepared_fedn_network.api_url)
    seen: list[tuple[int, int | None]] = []
    path = client.download_package(tmp_path, progress=lambda done, total: seen.append((done, total)))
    assert path.parent == tmp_path
    assert path.name.endswith(".tgz") and "/" not in path.name
    assert _sha256(path) == _sha256(numpy_package)
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    assert not list(tmp_path.glob(".*.part")), "temp file left behind"
    # The harness keeps uploads in the controller's working directory, so the checksum route works.
    assert client.package_checksum() == _sha256(numpy_package)


def test_latest_model_download(prepared_fedn_network, seed_model, tmp_path):
    client = ControllerClient(prepared_fedn_network.api_url)
    model_id = client.latest_model_id()
    path = client.download_model(model_id, tmp_path / "model.npz")
    with np.load(path) as downloaded, np.load(seed_model) as seed:
        assert sorted(downloaded.files) == sorted(seed.files)
        if model_id == prepared_fedn_network.seed_model_id:
            for key in seed.files:
                np.testing.assert_array_equal(downloaded[key], seed[key])
    with pytest.raises(ModelNotFound):
        client.download_model("no-such-model", tmp_path / "missing.npz")
    assert not (tmp_path / "missing.npz").exists()


@pytest.fixture(scope="module")
def auth_network_with_package(fedn_network_auth, numpy_package, seed_model):
    fedn_network_auth.upload_package(numpy_package)
    fedn_network_auth.set_seed_model(seed_model)
    return fedn_network_auth


def test_assign_with_client_token(auth_network_with_package, tmp_path):
    net = auth_network_with_package
    client = ControllerClient(net.api_url, token=net.make_token("client"))
    assignment = client.assign(str(uuid.uuid4()), "gui-auth-client")
    assert assignment.port == net.grpc_port
    assert client.download_package(tmp_path).stat().st_size > 0


def test_missing_wrong_and_expired_tokens(auth_network_with_package):
    net = auth_network_with_package
    client_id = str(uuid.uuid4())
    with pytest.raises(TokenRejected, match="needs an access token"):
        ControllerClient(net.api_url).assign(client_id, "no-token")

    wrong = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiY2xpZW50In0.not-a-valid-signature-abcdef"
    with pytest.raises(TokenRejected) as rejected:
        ControllerClient(net.api_url, token=wrong).assign(client_id, "wrong-token")
    assert not isinstance(rejected.value, TokenExpired)
    assert wrong not in str(rejected.value)

    expired = net.make_token("client", expired=True)
    with pytest.raises(TokenExpired) as caught:
        ControllerClient(net.api_url, token=expired).assign(client_id, "expired-token")
    assert expired not in str(caught.value)
    assert "expired" in str(caught.value)


def test_model_routes_need_an_admin_token(auth_network_with_package, tmp_path):
    """FEDn 0.33 guards the model list and download with role admin; a client token is refused."""
    net = auth_network_with_package
    with pytest.raises(TokenRejected):
        ControllerClient(net.api_url, token=net.make_token("client")).latest_model_id()
    admin = ControllerClient(net.api_url, token=net.make_token("admin"))
    model_id = admin.latest_model_id()
    assert admin.download_model(model_id, tmp_path / "m.npz").stat().st_size > 0

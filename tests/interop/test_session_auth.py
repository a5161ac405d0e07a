"""The session engine against a FEDn network with JWT auth on (issue: network session §5.6),
and the person's controls: pause, resume, stop."""

from __future__ import annotations

import pytest

from fedgui.core.controller.errors import TokenRejected
from tests.fednet.tokens import make_jwt
from tests.interop.session_helpers import start_client


@pytest.fixture
def auth_network(fresh_fedn_network, numpy_package, seed_model):
    network = fresh_fedn_network(auth_secret="interop-secret-0123456789abcdef")
    network.upload_package(numpy_package)
    network.set_seed_model(seed_model)
    return network


def test_client_token_works_for_rest_and_grpc_through_a_round(auth_network, tmp_path):
    client = start_client(auth_network, "authed", tmp_path, token=auth_network.make_token("client"))
    try:
        client.recorder.wait_for_state("ready", timeout=60)
        auth_network.wait_clients_online(1, timeout=30)
        session_id = auth_network.start_session(rounds=1, round_timeout=60, min_clients=1)
        auth_network.wait_session_finished(session_id, timeout=60)
        client.recorder.wait_for(lambda: client.recorder.finished("validate", "ok"), "validation", timeout=30)
        assert client.recorder.finished("train", "ok")
    finally:
        client.stop()


def test_wrong_token_ends_in_the_token_rejected_state_with_a_plain_message(auth_network, tmp_path):
    wrong = make_jwt("not-the-network-secret", role="client")
    client = start_client(auth_network, "wrong-token", tmp_path, token=wrong)
    try:
        client.recorder.wait_for_state("token_rejected", timeout=60)
        error = client.session.last_error
        assert isinstance(error, TokenRejected)
        text = str(error)
        assert "token" in text.lower() and "Traceback" not in text
        assert wrong not in text
        assert client.session.state.value == "token_rejected"  # waiting, not crashed or exited

        # A new token from the person: it connects without a restart.
        client.session.update_token(auth_network.make_token("client"))
        client.recorder.wait_for_state("ready", timeout=60)
    finally:
        client.stop()


def test_token_that_expires_mid_session_moves_to_token_expired_and_recovers(auth_network, tmp_path):
    short = make_jwt("interop-secret-0123456789abcdef", role="client", lifetime_s=5)
    client = start_client(auth_network, "short-lived", tmp_path, token=short)
    try:
        client.recorder.wait_for_state("ready", timeout=60)
        client.recorder.wait_for_state("token_expired", timeout=60)
        assert "expired" in str(client.session.last_error).lower()
        ready_before = client.recorder.states().count("ready")  # before the request: it may be quick
        client.session.update_token(auth_network.make_token("client"))
        client.recorder.wait_for_state("ready", count=ready_before + 1, timeout=60)  # with the new token
    finally:
        client.stop()


def test_pause_disconnects_after_the_task_and_resume_reconnects(auth_network, tmp_path):
    client = start_client(auth_network, "pausable", tmp_path, token=auth_network.make_token("client"))
    try:
        client.recorder.wait_for_state("ready", timeout=60)
        auth_network.wait_clients_online(1, timeout=30)
        client.session.pause()
        client.recorder.wait_for_state("paused", timeout=30)
        # Paused clients disconnect: the combiner marks them offline and hands them no tasks.
        import time

        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            statuses = {c["name"]: c.get("status") for c in auth_network.clients()}
            if statuses.get("pausable") != "online":
                break
            time.sleep(1)
        assert statuses.get("pausable") == "offline"
        ready_before = client.recorder.states().count("ready")  # before the request: it may be quick
        client.session.resume()
        client.recorder.wait_for_state("ready", count=ready_before + 1, timeout=60)  # resumed
    finally:
        client.stop()
    assert client.session.state.value == "stopped"

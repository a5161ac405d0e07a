"""The harness itself: a stock FEDn client finishes a real session on the harness network."""

from __future__ import annotations

import subprocess

import pytest
import requests


def test_services_listen_on_loopback_only(fedn_network):
    """FEDn binds 0.0.0.0/[::] by default; the harness rewrites that to 127.0.0.1."""
    out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=False).stdout
    if not out:
        pytest.skip("`ss` is not available to list listening sockets")
    for port in (fedn_network.api_port, fedn_network.grpc_port):
        local_addresses = [
            line.split()[3] for line in out.splitlines() if line.split()[3].endswith(f":{port}")
        ]
        assert local_addresses, f"nothing listens on {port}"
        # gRPC may report the IPv4 loopback in its IPv6-mapped form.
        loopback = ("127.0.0.1:", "[::ffff:127.0.0.1]:")
        assert all(addr.startswith(loopback) for addr in local_addresses), local_addresses


def test_stock_client_finishes_a_session(prepared_fedn_network):
    net = prepared_fedn_network
    net.stock_client("stock-1")
    net.wait_clients_online(1, timeout=60)
    session_id = net.start_session(rounds=2, round_timeout=60, min_clients=1)
    net.wait_session_finished(session_id, timeout=120)
    assert len(net.rounds(session_id)) == 2, net.logs_tail()
    assert len(net.models(session_id)) >= 2, net.logs_tail()


def test_auth_network_wants_tokens(fedn_network_auth):
    net = fedn_network_auth
    url = f"{net.api_url}/api/v1/clients/"
    assert requests.get(url, timeout=10).status_code == 401
    admin = {"Authorization": f"Bearer {net.make_token('admin')}"}
    assert requests.get(url, headers=admin, timeout=10).status_code == 200
    expired = {"Authorization": f"Bearer {net.make_token('admin', expired=True)}"}
    response = requests.get(url, headers=expired, timeout=10)
    assert response.status_code == 401
    assert response.json()["message"] == "Token expired"


def test_restart_combiner_keeps_the_network_usable(fresh_fedn_network):
    net = fresh_fedn_network()
    old_pgid = net.services["combiner"].pgid
    net.restart_combiner()
    assert net.services["combiner"].pgid != old_pgid
    assert [c["name"] for c in net.combiners()] == ["combiner"]
    net.stop()
    assert not net.services
    assert net.timings["stop"] < 30

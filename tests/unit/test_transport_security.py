"""The token and an unencrypted network: say it once in plain words, or refuse (issue 11 §6).

The connection check runs against a real local HTTP(S) server standing in for the controller
(FakeServer): the assignments it returns decide whether the combiner would use TLS.
"""

from __future__ import annotations

import uuid

import pytest

from fedgui.core.controller.connection_check import ENCRYPTED, FAILED, PASSED, SKIPPED, check_connection
from fedgui.core.controller.transport_security import (
    InsecureConnectionRefused,
    require_secure_controller,
    token_exposure_notice,
)
from tests.fednet.fake_http import FakeServer, Reply, self_signed_certificate, tls_context

PLAIN = {"status": "assigned", "host": "combiner", "fqdn": None, "port": 12080, "helper_type": "numpyhelper"}
SECURE = {**PLAIN, "fqdn": "combiner.example.org", "port": 443}
CHECKSUM = (("GET", "/api/v1/packages/checksum"), Reply.json({"checksum": "a" * 64}))


def _check(url: str, token: str | None, **kwargs):
    return check_connection(url, token, str(uuid.uuid4()), "site", **kwargs)


def test_the_wizard_checklist_warns_when_a_token_would_travel_unencrypted():
    routes = {
        ("POST", "/api/v1/clients/add"): Reply.json(PLAIN),
        ("GET", "/api/v1/packages/checksum"): Reply.json({"checksum": "a" * 64}),
    }
    with FakeServer(routes) as server:
        with_token = _check(server.url, "a-token")
        without = _check(server.url, None)
    state, words = with_token.results[ENCRYPTED]
    assert state == FAILED and "without encryption" in words and "copy the token" in words
    assert with_token.ok  # a warning: networks without TLS exist and fedgui still connects
    assert without.results[ENCRYPTED][0] == SKIPPED


def test_https_controller_and_tls_combiner_pass(tmp_path):
    made = self_signed_certificate(tmp_path)
    if made is None:
        pytest.skip("the openssl command is not installed, so no test certificate can be made")
    routes = {
        ("POST", "/api/v1/clients/add"): Reply.json(SECURE),
        ("GET", "/api/v1/packages/checksum"): Reply.json({"checksum": "a" * 64}),
    }
    with FakeServer(routes, tls=tls_context(*made)) as server:
        report = _check(server.url, "a-token", verify=str(made[0]))
    assert report.results[ENCRYPTED][0] == PASSED


def test_a_profile_that_requires_tls_refuses_before_sending_the_token():
    with pytest.raises(InsecureConnectionRefused, match="did not send your token"):
        require_secure_controller("http://controller:8092", require_tls=True)
    with pytest.raises(InsecureConnectionRefused, match="did not send your token"):
        token_exposure_notice("https://controller", combiner_encrypted=False, token="t", require_tls=True)
    assert token_exposure_notice("https://c", True, "t", require_tls=True) is None
    assert token_exposure_notice("http://c", False, None, require_tls=False) is None
    assert "without encryption" in token_exposure_notice("http://c", False, "t", require_tls=False)

"""fedgui's session engine taking part in real FEDn 0.33 sessions (issue: network session §5).

Every test starts its own network (``fresh_fedn_network``, ~3 s) because these tests break
things on purpose (crashing clients, combiner restarts) and FEDn's controller never recovers
from a round that times out with no update.
"""

from __future__ import annotations

import json

import pytest

from fedgui.core.events import TaskFinished, TaskStarted
from fedgui.core.package.checksum import sha256_file
from tests.interop.session_helpers import start_client
from tests.interop.tamper_proxy import TamperingProxy


@pytest.fixture
def network(fresh_prepared_network):
    return fresh_prepared_network


def test_two_fedgui_clients_finish_a_three_round_session(network, tmp_path):
    clients = [start_client(network, f"site-{i}", tmp_path) for i in (1, 2)]
    try:
        for client in clients:
            client.recorder.wait_for_state("ready", timeout=60)
        network.wait_clients_online(2, timeout=30)
        session_id = network.start_session(rounds=3, round_timeout=60, min_clients=2)
        network.wait_session_finished(session_id, timeout=120)

        rounds = network.rounds(session_id)
        assert len(rounds) == 3
        assert all(str(r.get("status", "")).lower() == "finished" for r in rounds), rounds
        assert len(network.models(session_id)) >= 3

        # Validations arrive asynchronously, the last round's possibly after "Finished".
        for client in clients:
            client.recorder.wait_for(
                lambda c=client: len(c.recorder.finished("validate", "ok")) >= 3, "3 validations", timeout=60
            )
            assert len(client.recorder.finished("train", "ok")) == 3
        validations = _wait_validations(network, session_id, expected=6)
        by_client: dict[str, list[dict]] = {}
        for validation in validations:
            by_client.setdefault(validation["sender"]["name"], []).append(validation)
        assert sorted(by_client) == ["site-1", "site-2"]
        for entries in by_client.values():
            metrics = json.loads(entries[0]["data"])
            assert set(metrics) == {"training_loss", "training_accuracy", "test_loss", "test_accuracy"}

        # The audit trail: one history row per task with the package checksum, and a log file.
        for client in clients:
            rows = client.history.tasks(client.profile.id)
            assert sorted(r.kind for r in rows).count("train") == 3
            assert all(r.status == "ok" for r in rows)
            assert all(r.package_checksum == client.session.package.checksum for r in rows)
            assert client.history.task_log_path(rows[0].id).is_file()
            # Each global model crossed the network once: validate X then train on X.
            started = [e for e in client.recorder.events if isinstance(e, TaskStarted)]
            assert len({e.model_id for e in started}) < len(started)
    finally:
        for client in clients:
            client.stop()


def _wait_validations(network, session_id: str, expected: int, timeout: float = 30.0) -> list[dict]:
    import time

    deadline = time.monotonic() + timeout
    while True:
        validations = network.validations(session_id)
        if len(validations) >= expected or time.monotonic() > deadline:
            return validations
        time.sleep(0.5)


def test_package_not_matching_the_pinned_checksum_is_refused(network, tmp_path, numpy_package):
    """The admin's client.yaml pins the package checksum; the network serves another package:
    fedgui refuses it and no entry point ever runs."""
    from tests.interop.session_helpers import fast_timing

    assert sha256_file(numpy_package) != "0" * 64
    timing = fast_timing()
    timing.error_retry_interval = 1.0  # an unattended client checks again by itself
    client = start_client(network, "pinned", tmp_path, pin="0" * 64, timing=timing)
    try:
        client.recorder.wait_for_state("error", timeout=60)
        assert "pinned" in str(client.session.last_error)
        client.recorder.wait_for_state("error", count=2, timeout=30)  # a second try
        assert not client.recorder.of(TaskFinished)
        assert "ready" not in client.recorder.states()
    finally:
        client.stop()


def test_package_tampered_in_transit_is_refused_and_nothing_runs(network, tmp_path):
    """A proxy between fedgui and the real controller flips bytes of the package download, so
    the archive no longer matches the controller's SHA-256: refused, nothing unpacked or run."""
    with TamperingProxy(network.api_url) as proxy:
        client = start_client(network, "tampered", tmp_path, controller_url=proxy.url)
        try:
            client.recorder.wait_for_state("error", timeout=60)
            assert proxy.tampered >= 1
            error = str(client.session.last_error)
            assert "checksum" in error.lower() or "sha-256" in error.lower(), error
            assert not client.recorder.of(TaskFinished)
            assert "ready" not in client.recorder.states()
            assert not list((tmp_path / "tampered-work").rglob("fedn.yaml"))
        finally:
            client.stop()


def test_a_new_package_on_the_network_waits_for_review_before_anything_of_it_runs(
    network, tmp_path, numpy_package
):
    from tests.fednet.packages import PACKAGE_FILES
    from tests.interop.session_helpers import build_package, fast_timing

    timing = fast_timing()
    timing.package_check_interval = 1.0
    client = start_client(
        network, "watcher", tmp_path, auto_approve=False, approved=[sha256_file(numpy_package)], timing=timing
    )
    try:
        client.recorder.wait_for_state("ready", timeout=60)
        changed = {**PACKAGE_FILES, "validate.py": PACKAGE_FILES["validate.py"] + "\n# version 2\n"}
        new_package = build_package(tmp_path / "v2.tgz", changed)
        network.upload_package(new_package, name="version-2")
        client.recorder.wait_for_state("review_needed", timeout=60)
        pending = client.session.pending_review
        assert pending is not None and pending.checksum == sha256_file(new_package)
        assert "new compute package" in client.recorder.log()

        ready_before = client.recorder.states().count("ready")  # before the request: it may be quick
        client.session.approve_package(pending.checksum)
        client.recorder.wait_for_state("ready", count=ready_before + 1, timeout=60)
        assert client.session.package.checksum == pending.checksum
        assert pending.checksum in client.session.profile.approved_checksums  # its own copy
    finally:
        client.stop()

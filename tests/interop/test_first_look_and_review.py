"""On a real FEDn 0.33 network (issue 8): the first model the network sends is validated on this
computer's data before anything is sent back (the real preview on networks whose tokens cannot
download models over REST), each validation is in the log with its result, and after a restart
the review of a new package version compares it with the version approved before."""

from __future__ import annotations

from fedgui.core.events import ReviewNeeded
from fedgui.core.history.store import HistoryStore
from fedgui.core.package.checksum import sha256_file
from fedgui.core.profile import Profile
from fedgui.core.session.engine import Session
from tests.event_recorder import Recorder
from tests.fednet.packages import PACKAGE_FILES, write_package_archive
from tests.interop.session_helpers import fast_timing, start_client


def test_the_first_model_is_checked_on_your_data_before_the_first_update(fresh_prepared_network, tmp_path):
    network = fresh_prepared_network
    client = start_client(network, "site-1", tmp_path)
    try:
        client.recorder.wait_for_state("ready", timeout=60)
        network.wait_clients_online(1, timeout=30)
        session_id = network.start_session(rounds=2, round_timeout=60, min_clients=1)
        network.wait_session_finished(session_id, timeout=120)
        client.recorder.wait_for(
            lambda: len(client.recorder.finished("validate", "ok")) >= 2, "2 validations", timeout=60
        )
        tasks = client.history.tasks(client.profile.id)
        previews = [t for t in tasks if t.kind == "preview"]
        trains = sorted((t for t in tasks if t.kind == "train"), key=lambda t: t.started_at)
        assert len(previews) == 1 and previews[0].status == "ok"  # once, not every round
        first_look, first_train = previews[0], trains[0]
        assert first_look.model_id == first_train.model_id  # the model the network sent to train
        assert first_look.finished_at <= first_train.finished_at  # before the update went back
        metrics = {m.key for m in client.history.metrics_for(first_look.id, "validation")}
        assert {"test_loss", "test_accuracy"} <= metrics
        log = client.recorder.log()
        assert "How the network's model does on your data:" in log
        assert "Checked the network's model on your data: " in log  # each validation, with results
    finally:
        client.stop()


def test_after_a_restart_the_review_of_a_new_version_shows_the_previous_one(
    fresh_prepared_network, numpy_package, tmp_path
):
    network = fresh_prepared_network
    first = start_client(network, "site-1", tmp_path)  # approves version 1 (auto_approve)
    try:
        first.recorder.wait_for_state("ready", timeout=60)
    finally:
        first.stop()
    version_2 = write_package_archive(
        tmp_path / "v2.tgz", {**PACKAGE_FILES, "train.py": PACKAGE_FILES["train.py"] + "\n# version 2\n"}
    )
    network.upload_package(version_2)

    # The restart: a new session (its own history and caches on disk) from the saved profile.
    profile = Profile.new(
        "site-1", network.api_url, client_name="site-1", data_folder=first.profile.data_folder
    )
    profile.approve(sha256_file(numpy_package))
    recorder = Recorder()
    history = HistoryStore(tmp_path / "restarted.sqlite3")
    session = Session(profile, lambda: None, history=history, timing=fast_timing(), work_dir=tmp_path / "w2")
    session.bus.subscribe(recorder)
    session.start()
    try:
        recorder.wait_for(
            lambda: any(isinstance(e, ReviewNeeded) for e in recorder.events), "a review", timeout=60
        )
        review = next(e for e in recorder.events if isinstance(e, ReviewNeeded))
        assert review.package.checksum == sha256_file(version_2)
        assert review.previous_checksum == sha256_file(numpy_package)
        assert review.previous is not None and review.previous.checksum == sha256_file(numpy_package)
    finally:
        session.stop_and_wait(timeout=30)
        history.close()

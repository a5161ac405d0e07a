"""The session engine where FEDn's own client dies: crashing entry points, a restarted
combiner, a stock client beside ours (issue: network session §5, checks 2–4)."""

from __future__ import annotations

import contextlib
import time

import psutil

from tests.fednet.packages import PACKAGE_FILES
from tests.interop.session_helpers import build_package, marked_processes, sleep_mark, start_client

# train.py that crashes while the file "crash" is in the client's data folder: the test chooses
# the behaviour from outside (the data folder is read-only to the step when it runs isolated, so
# the step cannot count its own calls there).
CRASHING_TRAIN_PY = PACKAGE_FILES["train.py"].replace(
    "def main(in_path, out_path):\n",
    "def main(in_path, out_path):\n"
    "    if os.path.exists(os.path.join(os.environ['FEDN_DATA_PATH'], 'crash')):\n"
    "        print('simulated failure: the GPU fell off the bus', file=sys.stderr, flush=True)\n"
    "        sys.exit(3)\n",
    1,
)


def test_a_crashing_train_is_reported_and_the_client_takes_part_in_the_next_round(
    fresh_fedn_network, seed_model, tmp_path
):
    network = fresh_fedn_network()
    network.upload_package(
        build_package(tmp_path / "crashy.tgz", {**PACKAGE_FILES, "train.py": CRASHING_TRAIN_PY})
    )
    network.set_seed_model(seed_model)
    steady = start_client(network, "steady", tmp_path)
    (tmp_path / "crashy-data").mkdir()
    crash = tmp_path / "crashy-data" / "crash"
    crashy = start_client(network, "crashy", tmp_path)
    try:
        for client in (steady, crashy):
            client.recorder.wait_for_state("ready", timeout=60)
        network.wait_clients_online(2, timeout=30)
        # Three one-round sessions; crashy's train crashes in the second. That round waits for its
        # round_timeout for the crashed client's update, then aggregates the update it has.
        for number in (1, 2, 3):
            if number == 2:
                crash.write_text("")
            session_id = network.start_session(rounds=1, round_timeout=15, min_clients=2)
            network.wait_session_finished(session_id, timeout=90)
            assert len(network.rounds(session_id)) == 1
            crashy.recorder.wait_for(
                lambda n=number: len(crashy.recorder.finished("train")) == n, f"train {number}", timeout=30
            )
            crash.unlink(missing_ok=True)

        failed = crashy.recorder.finished("train", "failed")
        assert len(failed) == 1
        assert "GPU fell off the bus" in failed[0].error  # the stderr tail reaches the person
        assert "3" in failed[0].error  # and the exit code
        crashy.recorder.wait_for(
            lambda: len(crashy.recorder.finished("train", "ok")) == 2, "round 3", timeout=30
        )
        assert len(steady.recorder.finished("train", "ok")) == 3
        history = crashy.history.tasks(crashy.profile.id, kind="train")
        assert sorted(r.status for r in history) == ["failed", "ok", "ok"]
        assert crashy.session.state.value in ("ready", "working")
    finally:
        steady.stop()
        crashy.stop()


def test_client_reconnects_after_the_combiner_restarts(fresh_prepared_network, tmp_path):
    network = fresh_prepared_network
    client = start_client(network, "survivor", tmp_path)
    try:
        client.recorder.wait_for_state("ready", timeout=60)
        network.wait_clients_online(1, timeout=30)
        first = network.start_session(rounds=1, round_timeout=60, min_clients=1)
        network.wait_session_finished(first, timeout=60)

        # Counted before the restart: the client may be ready again before restart_combiner() returns.
        ready_count = client.recorder.states().count("ready")
        network.restart_combiner()
        client.recorder.wait_for_state("reconnecting", timeout=60)
        client.recorder.wait_for_state("ready", count=ready_count + 1, timeout=90)  # again after the restart
        network.wait_clients_online(1, timeout=30)
        second = network.start_session(rounds=2, round_timeout=60, min_clients=1)
        network.wait_session_finished(second, timeout=90)
        assert len(network.rounds(second)) == 2
        client.recorder.wait_for(
            lambda: len(client.recorder.finished("train", "ok")) == 3, "3 trains", timeout=30
        )
    finally:
        client.stop()


def test_fedgui_and_the_stock_fedn_client_both_contribute(fresh_prepared_network, tmp_path):
    network = fresh_prepared_network
    ours = start_client(network, "fedgui-site", tmp_path)
    stock = network.stock_client("stock-site")
    try:
        ours.recorder.wait_for_state("ready", timeout=60)
        network.wait_clients_online(2, timeout=90)
        session_id = network.start_session(rounds=2, round_timeout=60, min_clients=2)
        network.wait_session_finished(session_id, timeout=120)
        assert len(ours.recorder.finished("train", "ok")) == 2
        deadline = time.monotonic() + 30
        senders: set[str] = set()
        while time.monotonic() < deadline and senders != {"fedgui-site", "stock-site"}:
            senders = {v["sender"]["name"] for v in network.validations(session_id)}
            time.sleep(0.5)
        assert senders == {"fedgui-site", "stock-site"}
        stock_log = network.log_path("client-stock-site").read_text(errors="replace")
        assert "trained on" in stock_log or "Model update" in stock_log or "update" in stock_log.lower()
    finally:
        ours.stop()
        stock.stop()


# The entry point starts a `sleep` with a duration unique to the test and sleeps itself: the test
# finds that child from outside (also in the sandbox's PID namespace) by its command line, and the
# entry point as its parent; nothing is written into the data folder (read-only when isolated).
SLOW_TRAIN_PY = """\
import subprocess
import time

subprocess.Popen(["sleep", "MARK"])
print("training for a long time", flush=True)
time.sleep(300)
"""


def test_stop_during_training_kills_the_entry_point_tree_and_records_cancelled(
    fresh_fedn_network, seed_model, tmp_path
):
    mark = sleep_mark(300)
    network = fresh_fedn_network()
    train = SLOW_TRAIN_PY.replace("MARK", mark)
    network.upload_package(build_package(tmp_path / "slow.tgz", {**PACKAGE_FILES, "train.py": train}))
    network.set_seed_model(seed_model)
    client = start_client(network, "slow", tmp_path)
    procs: list[psutil.Process] = []
    try:
        client.recorder.wait_for_state("ready", timeout=60)
        network.wait_clients_online(1, timeout=30)
        network.start_session(rounds=1, round_timeout=60, min_clients=1)
        client.recorder.wait_for(
            lambda: bool(marked_processes(mark)), "the train entry point to start", timeout=60
        )
        (child,) = marked_processes(mark)
        entry_point = child.parent()
        assert entry_point is not None and any("train.py" in a for a in entry_point.cmdline())
        procs = [entry_point, child]
    finally:
        client.stop()
        assert client.session.state.value == "stopped"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p) for p in procs):
            time.sleep(0.2)
        survivors = [p for p in procs if _alive(p)] + marked_processes(mark)
        for proc in survivors:
            with contextlib.suppress(psutil.Error):
                proc.kill()
    assert not survivors, "entry point or its child survived the stop"
    rows = client.history.__class__(tmp_path / "slow-history.sqlite3").tasks(kind="train")
    assert [r.status for r in rows] == ["cancelled"]


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False

"""The session engine where FEDn's own client dies: crashing entry points, a restarted
combiner, a stock client beside ours (issue: network session §5, checks 2–4)."""

from __future__ import annotations

import time

from tests.fednet.packages import PACKAGE_FILES
from tests.interop.session_helpers import build_package, start_client

# train.py that crashes on its N-th call when FEDGUI_TEST_CRASH_ON_CALL=N (counted in the
# client's own data folder, so each client counts its own calls).
CRASHING_TRAIN_PY = PACKAGE_FILES["train.py"].replace(
    "def main(in_path, out_path):\n",
    "def main(in_path, out_path):\n"
    "    counter = os.path.join(os.environ.get('FEDN_DATA_PATH', '.'), 'train-calls')\n"
    "    calls = int(open(counter).read()) + 1 if os.path.exists(counter) else 1\n"
    "    open(counter, 'w').write(str(calls))\n"
    "    if str(calls) == os.environ.get('FEDGUI_TEST_CRASH_ON_CALL'):\n"
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
    crashy = start_client(network, "crashy", tmp_path, extra_env={"FEDGUI_TEST_CRASH_ON_CALL": "2"})
    try:
        for client in (steady, crashy):
            client.recorder.wait_for_state("ready", timeout=60)
        network.wait_clients_online(2, timeout=30)
        # Round 2 waits for its round_timeout for the crashed client's update, then aggregates
        # the update it has.
        session_id = network.start_session(rounds=3, round_timeout=15, min_clients=2)
        network.wait_session_finished(session_id, timeout=150)
        rounds = network.rounds(session_id)
        assert len(rounds) == 3

        failed = crashy.recorder.finished_tasks("train", "failed")
        assert len(failed) == 1
        assert "GPU fell off the bus" in failed[0].error  # the stderr tail reaches the person
        assert "3" in failed[0].error  # and the exit code
        crashy.recorder.wait_for(
            lambda: len(crashy.recorder.finished_tasks("train", "ok")) == 2, 30, "round 3"
        )
        assert len(steady.recorder.finished_tasks("train", "ok")) == 3
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

        network.restart_combiner()
        client.recorder.wait_for_state("reconnecting", timeout=60)
        ready_count = client.recorder.states().count("ready")
        client.recorder.wait_for(
            lambda: client.recorder.states().count("ready") > ready_count, 90, "ready again after the restart"
        )
        network.wait_clients_online(1, timeout=30)
        second = network.start_session(rounds=2, round_timeout=60, min_clients=1)
        network.wait_session_finished(second, timeout=90)
        assert len(network.rounds(second)) == 2
        client.recorder.wait_for(
            lambda: len(client.recorder.finished_tasks("train", "ok")) == 3, 30, "3 trains"
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
        assert len(ours.recorder.finished_tasks("train", "ok")) == 2
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


SLOW_TRAIN_PY = """\
import os
import subprocess
import sys
import time

folder = os.environ["FEDN_DATA_PATH"]
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
with open(os.path.join(folder, "pids"), "w") as handle:
    handle.write(f"{os.getpid()} {child.pid}")
print("training for a long time", flush=True)
time.sleep(300)
"""


def test_stop_during_training_kills_the_entry_point_tree_and_records_cancelled(
    fresh_fedn_network, seed_model, tmp_path
):
    import psutil

    network = fresh_fedn_network()
    network.upload_package(build_package(tmp_path / "slow.tgz", {**PACKAGE_FILES, "train.py": SLOW_TRAIN_PY}))
    network.set_seed_model(seed_model)
    client = start_client(network, "slow", tmp_path)
    pids_file = tmp_path / "slow-data" / "pids"
    try:
        client.recorder.wait_for_state("ready", timeout=60)
        network.wait_clients_online(1, timeout=30)
        network.start_session(rounds=1, round_timeout=60, min_clients=1)
        client.recorder.wait_for(pids_file.exists, 60, "the train entry point to start")
        pids = [int(p) for p in pids_file.read_text().split()]
        assert all(psutil.pid_exists(p) for p in pids)
    finally:
        client.stop()
    assert client.session.state.value == "stopped"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    assert not any(_alive(p) for p in pids), "entry point or its child survived the stop"
    rows = client.history.__class__(tmp_path / "slow-history.sqlite3").tasks(kind="train")
    assert [r.status for r in rows] == ["cancelled"]


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False

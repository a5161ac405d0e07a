"""Steps that leave processes behind or hang, through a real session on the test FEDn network
(issue 11 §1): fedgui ends what the step left running, goes on with the next task, stops a hung
step at the round's time limit and reports it failed, and `fedgui run` ends on SIGTERM."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from tests.fednet.packages import PACKAGE_FILES
from tests.interop.session_helpers import build_package, start_client

# Call 1: trains, but leaves a child in its own session that holds stdout/stderr (the stock
# way to hang a client). Call 2: ignores SIGTERM, starts a double-forked daemon and never ends.
# Later calls train normally. Every process left behind is recorded in <data>/pids.
HANGING_TRAIN_PY = PACKAGE_FILES["train.py"].replace(
    "def main(in_path, out_path):\n",
    "def main(in_path, out_path):\n"
    "    import signal, subprocess, time\n"
    "    folder = os.environ['FEDN_DATA_PATH']\n"
    "    counter = os.path.join(folder, 'train-calls')\n"
    "    calls = int(open(counter).read()) + 1 if os.path.exists(counter) else 1\n"
    "    open(counter, 'w').write(str(calls))\n"
    "    def record(pid):\n"
    "        with open(os.path.join(folder, 'pids'), 'a') as f:\n"
    "            f.write(f'{pid}\\n')\n"
    "    if calls == 1:\n"
    "        record(subprocess.Popen(['sleep', '1000'], start_new_session=True).pid)\n"
    "    if calls == 2:\n"
    "        signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "        if os.fork() == 0:\n"
    "            os.setsid()\n"
    "            if os.fork() == 0:\n"
    "                record(os.getpid())\n"
    "                time.sleep(1000)\n"
    "            os._exit(0)\n"
    "        os.wait()\n"
    "        record(os.getpid())\n"
    "        print('stuck in an endless loop', file=sys.stderr, flush=True)\n"
    "        while True:\n"
    "            time.sleep(1)\n",
    1,
)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _recorded(pids_file: Path) -> list[int]:
    return [int(p) for p in pids_file.read_text().split()] if pids_file.exists() else []


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def test_leftovers_are_ended_a_hung_step_stops_at_the_round_limit_and_the_client_goes_on(
    fresh_fedn_network, seed_model, tmp_path
):
    network = fresh_fedn_network()
    network.upload_package(
        build_package(tmp_path / "hanging.tgz", {**PACKAGE_FILES, "train.py": HANGING_TRAIN_PY})
    )
    network.set_seed_model(seed_model)
    steady = start_client(network, "steady", tmp_path)
    hangy = start_client(network, "hangy", tmp_path)
    pids_file = tmp_path / "hangy-data" / "pids"
    try:
        for client in (steady, hangy):
            client.recorder.wait_for_state("ready", timeout=60)
        network.wait_clients_online(2, timeout=30)
        # No time limit in the profile: the step limit is the round's, 20 s.
        session_id = network.start_session(rounds=3, round_timeout=20, min_clients=2)
        network.wait_session_finished(session_id, timeout=180)
        assert len(network.rounds(session_id)) == 3
        hangy.recorder.wait_for(
            lambda: len(hangy.recorder.finished_tasks("train")) == 3, 60, "three train tasks"
        )
        statuses = [t.status for t in hangy.recorder.finished_tasks("train")]
        assert statuses == ["ok", "failed", "ok"], hangy.recorder.log_text()[-3000:]
        failed = hangy.recorder.finished_tasks("train", "failed")[0]
        assert "time limit of 20 seconds" in failed.error and "round" in failed.error
        assert "stuck in an endless loop" in failed.error
        assert "running in the background" in hangy.recorder.log_text()  # round 1's leftover
        pids = _recorded(pids_file)
        assert len(pids) == 3 and not any(_alive(p) for p in pids), "a process of a step survived it"
        reported = [
            s
            for s in network._list("statuses/")
            if "hangy" in str(s.get("sender")) and "failed to complete the train task" in str(s.get("status"))
        ]
        assert reported, "the combiner was not told that the hung step failed"
        assert hangy.session.state.value in ("ready", "working")
    finally:
        steady.stop()
        hangy.stop()
        _kill(_recorded(pids_file))


STUBBORN_TRAIN_PY = PACKAGE_FILES["train.py"].replace(
    "def main(in_path, out_path):\n",
    "def main(in_path, out_path):\n"
    "    import signal, subprocess, time\n"
    "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "    pids = os.path.join(os.environ['FEDN_DATA_PATH'], 'pids')\n"
    "    if os.fork() == 0:\n"  # a daemon that ignores SIGTERM and keeps the output pipes
    "        os.setsid()\n"
    "        if os.fork() == 0:\n"
    "            with open(pids, 'a') as f:\n"
    "                f.write(f'{os.getpid()}\\n')\n"
    "            time.sleep(1000)\n"
    "        os._exit(0)\n"
    "    os.wait()\n"
    "    child = subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
    "    with open(pids, 'a') as f:\n"
    "        f.write(f'{os.getpid()}\\n{child.pid}\\n')\n"
    "    while True:\n"
    "        time.sleep(1)\n",
    1,
)


def test_sigterm_ends_fedgui_run_within_seconds_whatever_the_step_does(
    fresh_fedn_network, seed_model, tmp_path
):
    network = fresh_fedn_network()
    network.upload_package(
        build_package(tmp_path / "stubborn.tgz", {**PACKAGE_FILES, "train.py": STUBBORN_TRAIN_PY})
    )
    network.set_seed_model(seed_model)
    data = tmp_path / "data"
    data.mkdir()
    port = network.api_url.rsplit(":", 1)[1]
    config = tmp_path / "client.yaml"
    config.write_text(f"api_url: http://127.0.0.1\napi_port: {port}\nname: stubborn\n", encoding="utf-8")
    log = (tmp_path / "run.log").open("w")
    run = subprocess.Popen(
        [sys.executable, "-m", "fedgui", "run", "--config", str(config), "--data", str(data), "--approve"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    pids_file = data / "pids"
    try:
        network.wait_clients_online(1, timeout=90)
        network.start_session(rounds=1, round_timeout=600, min_clients=1)
        deadline = time.monotonic() + 90
        while not (pids_file.exists() and len(_recorded(pids_file)) == 3):
            assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()[-3000:]
            time.sleep(0.2)
        time.sleep(1)
        asked = time.monotonic()
        run.send_signal(signal.SIGTERM)
        try:
            code = run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - asked
        output = (tmp_path / "run.log").read_text()
        assert code == 0, f"exit {code} after {took:.1f} s\n{output[-3000:]}"  # what `fedgui run --help` says
        assert took < 10, f"fedgui run took {took:.1f} s to end\n{output[-3000:]}"
        pids = _recorded(pids_file)
        deadline = time.monotonic() + 3
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(p) for p in pids), "the step outlived fedgui run"
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        log.close()
        _kill(_recorded(pids_file))

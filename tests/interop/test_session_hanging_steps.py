"""Steps that leave processes behind or hang, through a real session on the test FEDn network
(issue 11 §1): fedgui ends what the step left running, goes on with the next task, stops a hung
step at the round's time limit and reports it failed, and `fedgui run` ends on SIGTERM."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time

import psutil

from fedgui.core.package.checksum import sha256_file
from tests.fednet.packages import PACKAGE_FILES
from tests.interop.session_helpers import build_package, marked_processes, sleep_mark, start_client

# What train does is chosen by the test through a file in the data folder (read-only for the
# step when it runs isolated, and nothing else of the step outlives it there): "leftover" trains
# but leaves a child in its own session holding stdout/stderr (the stock way to hang a client);
# "hang" ignores SIGTERM, starts a double-forked daemon and never ends. Every process left behind
# is a `sleep` with a duration unique to the test, so the test finds it from outside (also in the
# sandbox's PID namespace) by its command line.
HANGING_TRAIN_PY = PACKAGE_FILES["train.py"].replace(
    "def main(in_path, out_path):\n",
    "def main(in_path, out_path):\n"
    "    import signal, subprocess, time\n"
    "    mode = open(os.path.join(os.environ['FEDN_DATA_PATH'], 'mode')).read().strip()\n"
    "    if mode == 'leftover':\n"
    "        subprocess.Popen(['sleep', 'MARK'], start_new_session=True)\n"
    "    if mode == 'hang':\n"
    "        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # inherited by the exec'd sleep\n"
    "        if os.fork() == 0:\n"
    "            os.setsid()\n"
    "            if os.fork() == 0:\n"
    "                os.execvp('sleep', ['sleep', 'MARK'])\n"
    "            os._exit(0)\n"
    "        os.wait()\n"
    "        print('stuck in an endless loop', file=sys.stderr, flush=True)\n"
    "        while True:\n"
    "            time.sleep(1)\n",
    1,
)


def _kill_marked(mark: str) -> None:
    for proc in marked_processes(mark):
        with contextlib.suppress(psutil.Error):
            proc.kill()


def test_leftovers_are_ended_a_hung_step_stops_at_the_round_limit_and_the_client_goes_on(
    fresh_fedn_network, seed_model, tmp_path
):
    mark = sleep_mark(1000)
    network = fresh_fedn_network()
    train = HANGING_TRAIN_PY.replace("MARK", mark)
    network.upload_package(build_package(tmp_path / "hanging.tgz", {**PACKAGE_FILES, "train.py": train}))
    network.set_seed_model(seed_model)
    (tmp_path / "hangy-data").mkdir()
    mode = tmp_path / "hangy-data" / "mode"
    mode.write_text("leftover")
    steady = start_client(network, "steady", tmp_path)
    hangy = start_client(network, "hangy", tmp_path)
    try:
        for client in (steady, hangy):
            client.recorder.wait_for_state("ready", timeout=60)
        network.wait_clients_online(2, timeout=30)
        for step, (behaviour, timeout) in enumerate([("leftover", 60), ("hang", 20), ("train", 60)], 1):
            mode.write_text(behaviour)
            # No time limit in the profile: the step's limit is the round's (20 s for "hang").
            session_id = network.start_session(rounds=1, round_timeout=timeout, min_clients=2)
            network.wait_session_finished(session_id, timeout=120)
            hangy.recorder.wait_for(
                lambda n=step: len(hangy.recorder.finished("train")) == n, f"train task {step}", timeout=60
            )
            assert not marked_processes(mark), f"a process left by the '{behaviour}' step outlived it"
        statuses = [t.status for t in hangy.recorder.finished("train")]
        assert statuses == ["ok", "failed", "ok"], hangy.recorder.log()[-3000:]
        failed = hangy.recorder.finished("train", "failed")[0]
        assert "time limit of 20 seconds" in failed.error and "round" in failed.error
        assert "stuck in an endless loop" in failed.error
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
        _kill_marked(mark)


STUBBORN_TRAIN_PY = PACKAGE_FILES["train.py"].replace(
    "def main(in_path, out_path):\n",
    "def main(in_path, out_path):\n"
    "    import signal, subprocess, time\n"
    "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "    if os.fork() == 0:\n"  # a daemon that ignores SIGTERM and keeps the output pipes
    "        os.setsid()\n"
    "        if os.fork() == 0:\n"
    "            os.execvp('sleep', ['sleep', 'MARK'])\n"
    "        os._exit(0)\n"
    "    os.wait()\n"
    "    subprocess.Popen(['sleep', 'MARK'], start_new_session=True)\n"
    "    while True:\n"
    "        time.sleep(1)\n",
    1,
)


def test_sigterm_ends_fedgui_run_within_seconds_whatever_the_step_does(
    fresh_fedn_network, seed_model, tmp_path
):
    mark = sleep_mark(1000)
    network = fresh_fedn_network()
    package = build_package(
        tmp_path / "stubborn.tgz", {**PACKAGE_FILES, "train.py": STUBBORN_TRAIN_PY.replace("MARK", mark)}
    )
    network.upload_package(package)
    network.set_seed_model(seed_model)
    data = tmp_path / "data"
    data.mkdir()
    port = network.api_url.rsplit(":", 1)[1]
    config = tmp_path / "client.yaml"
    config.write_text(f"api_url: http://127.0.0.1\napi_port: {port}\nname: stubborn\n", encoding="utf-8")
    log_path = tmp_path / "run.log"
    argv = ["run", "--config", str(config), "--data", str(data), "--approve", sha256_file(package)]
    with log_path.open("w") as log:
        run = subprocess.Popen([sys.executable, "-m", "fedgui", *argv], stdout=log, stderr=subprocess.STDOUT)
    try:
        network.wait_clients_online(1, timeout=90)
        network.start_session(rounds=1, round_timeout=600, min_clients=1)
        deadline = time.monotonic() + 90
        while len(marked_processes(mark)) < 2:
            assert time.monotonic() < deadline and run.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.2)
        time.sleep(1)
        asked = time.monotonic()
        run.send_signal(signal.SIGTERM)
        try:
            code = run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - asked
        print(f"fedgui run ended {took:.1f} s after SIGTERM")  # the README's figure
        output = log_path.read_text()
        assert code == 0, f"exit {code} after {took:.1f} s\n{output[-3000:]}"  # what `fedgui run --help` says
        assert took < 10, f"fedgui run took {took:.1f} s to end\n{output[-3000:]}"
        deadline = time.monotonic() + 3
        while marked_processes(mark) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not marked_processes(mark), "a process of the step outlived fedgui run"
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        _kill_marked(mark)

"""`fedgui run` against a real network: messages said once, every line timestamped, and the
plain warning about an unencrypted token said once across a reconnect (issue 11 §6)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

from fedgui.core.package.checksum import sha256_file

STAMP = re.compile(r"^\d\d:\d\d:\d\d ")


def _wait_for(log_path, text: str, timeout: float, proc) -> None:
    deadline = time.monotonic() + timeout
    while text not in log_path.read_text():
        assert proc.poll() is None and time.monotonic() < deadline, (
            f"no {text!r} (exit {proc.poll()}):\n{log_path.read_text()[-3000:]}"
        )
        time.sleep(0.2)


def test_headless_says_things_once_with_the_time_on_every_line(
    fresh_fedn_network, numpy_package, seed_model, tmp_path
):
    network = fresh_fedn_network(auth_secret="s3cret-for-tests")  # no package yet
    port = network.api_url.rsplit(":", 1)[1]
    config = tmp_path / "client.yaml"
    config.write_text(
        f"api_url: http://127.0.0.1\napi_port: {port}\nname: talker\ntoken: {network.make_token('client')}\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"
    data.mkdir()
    log_path = tmp_path / "run.log"
    argv = ["run", "--config", str(config), "--data", str(data), "--approve", sha256_file(numpy_package)]
    with log_path.open("w") as log:
        run = subprocess.Popen(
            [sys.executable, "-m", "fedgui", *argv],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ},
        )
        try:
            _wait_for(log_path, "publish a compute package", 60, run)
            time.sleep(10)  # the controller is asked every 3 s meanwhile
            network.upload_package(numpy_package)
            network.set_seed_model(seed_model)
            _wait_for(log_path, "Waiting for work", 120, run)
            ready = log_path.read_text().count("Waiting for work")
            network.restart_combiner()  # a reconnect: the token warning must not come again
            _wait_for(log_path, "reconnecting", 60, run)
            deadline = time.monotonic() + 90
            while log_path.read_text().count("Waiting for work") == ready:
                assert time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.5)
        finally:
            run.send_signal(signal.SIGTERM)
            code = run.wait(30)
    output = log_path.read_text()
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == 0, output[-3000:]
    assert output.count("publish a compute package") == 1, output[-3000:]
    assert output.count("without encryption") == 1, output[-3000:]
    assert "while talking to the combiner" not in output
    unstamped = [line for line in lines if not STAMP.match(line)]
    assert not unstamped, unstamped

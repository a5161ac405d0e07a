"""``fedgui run`` as a person runs it on a server: a real process against a real network."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fedgui.core.package.checksum import sha256_file
from fedgui.core.profile import Profile, ProfileStore


class ConsoleProcess:
    """A ``fedgui`` subprocess whose output is collected on a thread (no pipe deadlock)."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fedgui", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no line with {text!r}; exit={self.proc.poll()}\n{self.output[-3000:]}")
            time.sleep(0.2)

    def finish(self, timeout: float = 30) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code


@pytest.fixture
def network(fresh_prepared_network):
    return fresh_prepared_network


def _client_yaml(tmp_path: Path, network, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    port = network.api_url.rsplit(":", 1)[1]
    path.write_text(f"api_url: http://127.0.0.1\napi_port: {port}\nname: {name}\n", encoding="utf-8")
    return path


def test_run_with_client_yaml_takes_part_and_stops_cleanly_on_sigterm(network, tmp_path, numpy_package):
    data = tmp_path / "data"
    data.mkdir()
    config = _client_yaml(tmp_path, network, "headless-1")
    env = {**os.environ}
    approve = ["--approve", sha256_file(numpy_package)]
    run = ConsoleProcess(["run", "--config", str(config), "--data", str(data), *approve], env)
    try:
        run.wait_for_line("Waiting for work", timeout=60)
        network.wait_clients_online(1, timeout=30)
        session_id = network.start_session(rounds=1, round_timeout=60, min_clients=1)
        network.wait_session_finished(session_id, timeout=60)
        run.wait_for_line("task    validate finished", timeout=30)
        assert "[train:stdout] trained on 2 arrays" in run.output  # entry point logs, prefixed
        assert "task    train finished" in run.output
    finally:
        run.proc.send_signal(signal.SIGTERM)
        code = run.finish()
    assert code == 0, run.output[-2000:]
    assert "stopping" in run.output


def test_run_without_approval_exits_3_with_a_command_that_approves_it(network, tmp_path, numpy_package):
    config = _client_yaml(tmp_path, network, "headless-2")
    run = ConsoleProcess(["run", "--config", str(config), "--data", str(tmp_path)], {**os.environ})
    code = run.finish(timeout=90)
    assert code == 3, run.output[-2000:]
    assert "Waiting for work" not in run.output
    checksum = sha256_file(numpy_package)
    advice = _advised_command(run.output)
    assert advice[-2:] == ["--approve", checksum]

    # The advice works as given: the same command with the checksum takes part.
    again = ConsoleProcess(advice[1:], {**os.environ})
    try:
        again.wait_for_line("Waiting for work", timeout=60)
    finally:
        again.proc.send_signal(signal.SIGINT)
        assert again.finish() == 0


def _advised_command(output: str) -> list[str]:
    """The `fedgui run ...` line the unapproved-package message tells the person to run."""
    # Every headless line starts with the time (HH:MM:SS); the command follows it.
    untimed = [re.sub(r"^\d\d:\d\d:\d\d ", "", line).strip() for line in output.splitlines()]
    lines = [line for line in untimed if line.startswith("fedgui run ")]
    assert lines, output[-2000:]
    return shlex.split(lines[-1])


def test_run_with_a_saved_profile_remembers_the_approval(
    network, tmp_path, isolated_fedgui_home, numpy_package
):
    profile = Profile.new(display_name="Lab A", controller_url=network.api_url, client_name="lab-a")
    profile.data_folder = tmp_path
    store = ProfileStore()
    store.save(profile)
    env = {**os.environ}
    first = ConsoleProcess(["run", "--profile", "Lab A", "--approve", sha256_file(numpy_package)], env)
    try:
        first.wait_for_line("Waiting for work", timeout=60)
    finally:
        first.proc.send_signal(signal.SIGINT)
        assert first.finish() == 0
    assert store.get("Lab A").approved_checksums  # persisted in the profile

    # Next start: no --approve needed, the approval was remembered.
    second = ConsoleProcess(["run", "--profile", "Lab A"], env)
    try:
        second.wait_for_line("Waiting for work", timeout=60)
    finally:
        second.proc.send_signal(signal.SIGINT)
        assert second.finish() == 0


def test_run_with_an_unknown_profile_says_so_and_exits_2(tmp_path):
    run = ConsoleProcess(["run", "--profile", "does-not-exist"], {**os.environ})
    assert run.finish() == 2
    assert "does-not-exist" in run.output


def test_a_wrong_controller_address_is_said_plainly_with_the_address_under_details(tmp_path):
    # No network is needed: nothing listens on the port the file names.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "wrong.yaml"
    config.write_text(f"api_url: http://127.0.0.1\napi_port: {port}\nname: wrong\n", encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    run = ConsoleProcess(["run", "--config", str(config), "--data", str(data)], {**os.environ})
    try:
        run.wait_for_line(f"Controller address: http://127.0.0.1:{port}", timeout=60)
    finally:
        run.proc.send_signal(signal.SIGTERM)
        assert run.finish() == 0, run.output[-3000:]
    lines = run.output.splitlines()
    said = "[fedgui] warning: Nothing answers at this address and port"
    plain = next(i for i, line in enumerate(lines) if said in line)
    assert "127.0.0.1" not in lines[plain]  # the plain sentence names no address
    assert lines[plain + 1].endswith("         Details:"), lines[plain : plain + 3]
    assert lines[plain + 2].endswith(f"  Controller address: http://127.0.0.1:{port} (ConnectionError)")
    # Said once, by the session: not again as a bare internal log line ("POST /api/v1/... failed").
    assert "/api/v1/" not in run.output, run.output[-3000:]


def test_a_client_yaml_keeps_its_identity_and_runs_once_at_a_time(network, tmp_path, numpy_package):
    """No client_id in the file: the same one at every start, so FEDn lists one client; a second
    `fedgui run` with the same file is refused and names the process that runs it."""
    config = _client_yaml(tmp_path, network, "kept")
    argv = ["run", "--config", str(config), "--data", str(tmp_path), "--approve", sha256_file(numpy_package)]
    env = {**os.environ}
    first = ConsoleProcess(argv, env)
    try:
        first.wait_for_line("Waiting for work", timeout=60)
        assert "made one" in first.output
        second = ConsoleProcess(argv, env)
        assert second.finish(timeout=60) == 4, second.output[-2000:]
        assert f"process {first.proc.pid}" in second.output
        assert "fedgui run" in second.output
        assert first.proc.poll() is None  # the first one goes on
    finally:
        first.proc.send_signal(signal.SIGTERM)
        assert first.finish() == 0

    third = ConsoleProcess(argv, env)  # a restart: same identity, and the profile is free again
    try:
        third.wait_for_line("Waiting for work", timeout=60)
        assert "same client as last time" in third.output
    finally:
        third.proc.send_signal(signal.SIGTERM)
        assert third.finish() == 0
    ids = {c["client_id"] for c in network.clients() if c.get("name") == "kept"}
    assert len(ids) == 1, network.clients()


def test_a_package_published_while_running_ends_an_unapproved_run_within_one_interval(
    fresh_fedn_network, seed_model, numpy_package, tmp_path
):
    """As on a default FEDn 0.33 install (no checksum from the controller)."""
    from fedgui.core.session.package_watch import DEFAULT_INTERVAL
    from tests.fednet.packages import PACKAGE_FILES
    from tests.interop.session_helpers import build_package

    network = fresh_fedn_network(checksum_route=False)
    network.upload_package(numpy_package)
    network.set_seed_model(seed_model)
    config = _client_yaml(tmp_path, network, "watching")
    argv = ["run", "--config", str(config), "--data", str(tmp_path), "--approve", sha256_file(numpy_package)]
    run = ConsoleProcess(argv, {**os.environ})
    try:
        run.wait_for_line("Waiting for work", timeout=60)
        changed = {**PACKAGE_FILES, "validate.py": PACKAGE_FILES["validate.py"] + "\n# version 2\n"}
        second = build_package(tmp_path / "v2.tgz", changed)
        network.upload_package(second, name="version-2")
        uploaded = time.monotonic()
        code = run.finish(timeout=DEFAULT_INTERVAL + 30)
        took = time.monotonic() - uploaded
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
    print(f"\nfedgui run ended {took:.1f} s after the upload (watch interval {DEFAULT_INTERVAL:.0f} s)")
    assert code == 3, run.output[-2000:]
    assert took <= DEFAULT_INTERVAL + 10
    assert "published a new compute package" in run.output
    assert "not the package you approved" in run.output
    assert _advised_command(run.output)[-1] == sha256_file(second)

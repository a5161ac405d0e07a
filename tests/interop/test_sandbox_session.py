"""Isolation in real FEDn sessions: ``fedgui run`` against the test suite's FEDn 0.33 network.

A hostile package's train leaks nothing while the round still finishes; well-behaved packages
(the bundled example, and one with a ``python_env``) finish real rounds isolated, beside the
stock ``fedn client start``.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

from fedgui.core.package.checksum import sha256_file
from fedgui.core.resources import example_dir
from tests.fednet.hostile import (
    ATTACKS,
    DATA_TEXT,
    SECRET_TEXT,
    attempt_results,
    hostile_setup,
    leftover_children,
    needs_isolation,
)
from tests.fednet.packages import PACKAGE_FILES, build_seed_model, write_package_archive
from tests.interop.test_headless_run import ConsoleProcess, _client_yaml

pytestmark = needs_isolation


def run_args(config: Path, data: Path, package: Path) -> list[str]:
    """``fedgui run`` with a client.yaml, approving exactly this package."""
    return ["run", "--config", str(config), "--data", str(data), "--approve", sha256_file(package)]


def take_part(
    network, tmp_path: Path, package: Path, data: Path, rounds: int, env: dict[str, str]
) -> ConsoleProcess:
    """``fedgui run`` until ``rounds`` rounds finished; returns the stopped process."""
    config = _client_yaml(tmp_path, network, "hostile-site")
    run = ConsoleProcess(run_args(config, data, package), env)
    try:
        run.wait_for_line("Waiting for work", timeout=180)
        network.wait_clients_online(1, timeout=30)
        session_id = network.start_session(rounds=rounds, round_timeout=90, min_clients=1)
        network.wait_session_finished(session_id, timeout=90 * rounds)
        run.wait_for_line("task    validate finished", timeout=30)
    finally:
        run.proc.send_signal(signal.SIGTERM)
        code = run.finish()
    assert code == 0, run.output[-3000:]
    return run


def test_a_hostile_package_leaks_nothing_in_a_real_session(
    fresh_fedn_network, tmp_path, isolated_fedgui_home
):
    with hostile_setup() as setup:
        network = fresh_fedn_network()
        package = setup.write_package(tmp_path / "hostile.tgz")
        network.upload_package(package)
        network.set_seed_model(build_seed_model(tmp_path / "seed.npz"))
        env = {**os.environ, "HOME": str(setup.home)}
        run = take_part(network, tmp_path, package, setup.data, 1, env)

        output = run.output
        assert "Runs without network access; can read only your data folder." in output
        assert "task    train finished" in output  # the round itself went through
        results = attempt_results(output)
        assert results["read_data"] == "succeeded"
        for name in ATTACKS:
            assert results[name].startswith("failed"), (name, output[-3000:])
        assert setup.listener.connections == 0 and not setup.listener.received
        assert leftover_children(setup.marker) == []
        assert SECRET_TEXT not in output
        needle = SECRET_TEXT.encode()
        assert [p for p in isolated_fedgui_home.rglob("*") if p.is_file() and needle in p.read_bytes()] == []
        assert setup.files_outside() == []
        assert (setup.data / "patients.csv").read_text() == DATA_TEXT


def _folder_files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.is_file()}


def _finish_beside_the_stock_client(
    network, tmp_path, package: Path, seed: Path, data: Path, name: str
) -> str:
    network.upload_package(package)
    network.set_seed_model(seed)
    network.stock_client(f"stock-{name}", extra_env={"FEDN_DATA_PATH": str(data)})
    config = _client_yaml(tmp_path, network, name)
    run = ConsoleProcess(run_args(config, data, package), {**os.environ})
    try:
        run.wait_for_line("Waiting for work", timeout=300)  # a python_env is built first (pip)
        network.wait_clients_online(2, timeout=60)
        session_id = network.start_session(rounds=2, round_timeout=120, min_clients=2)
        network.wait_session_finished(session_id, timeout=300)
        run.wait_for_line("task    validate finished", timeout=30)
    finally:
        run.proc.send_signal(signal.SIGTERM)
        code = run.finish()
    assert code == 0, run.output[-3000:]
    assert run.output.count("task    train finished") == 2, run.output[-3000:]
    assert len(network.models(session_id)) >= 2
    return run.output


def test_the_bundled_example_finishes_real_rounds_isolated_beside_the_stock_client(
    fresh_fedn_network, tmp_path
):
    example = example_dir()
    package = write_package_archive(tmp_path / "example.tgz", _folder_files(example / "package"))
    output = _finish_beside_the_stock_client(
        fresh_fedn_network(), tmp_path, package, example / "seed.npz", example / "data", "example-site"
    )
    assert "Runs without network access; can read only your data folder." in output


def test_a_python_env_package_finishes_real_rounds_isolated_beside_the_stock_client(
    fresh_fedn_network, tmp_path
):
    files = dict(PACKAGE_FILES)
    files["fedn.yaml"] += "python_env: python_env.yaml\n"
    files["python_env.yaml"] = "name: sandboxed-numpy\ndependencies:\n  - numpy\n"
    package = write_package_archive(tmp_path / "with-env.tgz", files)
    data = tmp_path / "data"
    data.mkdir()
    output = _finish_beside_the_stock_client(
        fresh_fedn_network(), tmp_path, package, build_seed_model(tmp_path / "seed.npz"), data, "env-site"
    )
    assert "[pip:" in output  # the python_env was built outside the sandbox, with pip
    assert "Runs without network access; can read only your data folder." in output


def test_without_isolation_fedgui_run_runs_nothing_until_the_person_agrees(
    fresh_prepared_network, tmp_path, numpy_package
):
    # How a computer without bubblewrap looks to fedgui: bwrap is not on PATH (the shell is).
    no_bwrap = tmp_path / "bin-without-bwrap"
    no_bwrap.mkdir()
    for tool in ("bash", "sh"):
        (no_bwrap / tool).symlink_to(shutil.which(tool))
    env = {**os.environ, "PATH": str(no_bwrap)}
    data = tmp_path / "data"
    data.mkdir()
    config = _client_yaml(tmp_path, fresh_prepared_network, "no-isolation")
    args = run_args(config, data, numpy_package)

    refused = ConsoleProcess(args, env)
    assert refused.finish(timeout=120) == 3, refused.output[-3000:]
    assert "This computer cannot isolate the package: it runs with your rights" in refused.output
    assert "--allow-unisolated" in refused.output
    assert "Waiting for work" not in refused.output and "[startup" not in refused.output

    for extra in (["--allow-unisolated"], []):  # then the agreement is remembered for this file
        agreed = ConsoleProcess([*args, *extra], env)
        try:
            agreed.wait_for_line("Waiting for work", timeout=120)
            assert "This computer cannot isolate the package" in agreed.output
        finally:
            agreed.proc.send_signal(signal.SIGTERM)
            assert agreed.finish() == 0, agreed.output[-3000:]

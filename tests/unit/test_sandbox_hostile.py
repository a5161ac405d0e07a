"""A hostile package through ``fedgui preview``: real processes, a real TCP server, real files.

Every attempt to leak the data or touch the person's files fails under isolation; without
isolation nothing runs until the person agrees; network allowed for one version is exactly
that version's. (The same package through a real FEDn session: tests/interop/test_sandbox_session.py.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fednet.hostile import (
    ATTACKS,
    DATA_TEXT,
    SECRET_TEXT,
    attempt_results,
    hostile_setup,
    kill_leftovers,
    leftover_children,
    needs_isolation,
)
from tests.fednet.packages import build_seed_model


@pytest.fixture
def hostile(isolated_fedgui_home):
    with hostile_setup() as setup:
        yield setup


def preview(setup, package: Path, *extra: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    model = build_seed_model(setup.root.parent / "seed.npz")
    env = {**os.environ, "HOME": str(setup.home)}
    if path is not None:
        env["PATH"] = path
    command = ["preview", "--package", str(package), "--model", str(model), "--data", str(setup.data)]
    return subprocess.run(
        [sys.executable, "-m", "fedgui", *command, "--train", *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=setup.root.parent,
    )


def files_holding(folder: Path, text: str) -> list[Path]:
    needle = text.encode()
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def path_without_bwrap(tmp_path: Path) -> str:
    """A PATH with the shell but no bwrap: how a computer without bubblewrap looks to fedgui."""
    folder = tmp_path / "bin-without-bwrap"
    folder.mkdir()
    for tool in ("bash", "sh"):
        (folder / tool).symlink_to(shutil.which(tool))
    return str(folder)


@needs_isolation
def test_every_attempt_of_a_hostile_train_fails_and_nothing_leaks(hostile, isolated_fedgui_home):
    package = hostile.write_package(hostile.root.parent / "hostile.tgz")
    done = preview(hostile, package, "--approve")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Runs without network access; can read only your data folder." in output

    results = attempt_results(output)
    assert results["read_data"] == "succeeded"  # its own data folder is readable
    for name in ATTACKS + (("connect_other_address",) if "connect_other_address" in results else ()):
        assert results[name].startswith("failed"), (name, output[-3000:])

    time.sleep(3)  # the child would retry the connection after 2 s, had it survived
    assert hostile.listener.connections == 0 and not hostile.listener.received
    assert leftover_children(hostile.marker) == []
    assert SECRET_TEXT not in output
    assert files_holding(isolated_fedgui_home, SECRET_TEXT) == []  # logs, history, caches
    assert hostile.files_outside() == []  # nothing written beside or into the data, or at home
    assert (hostile.data / "patients.csv").read_text() == DATA_TEXT


def test_without_isolation_nothing_runs_until_the_person_agrees(hostile, tmp_path):
    package = hostile.write_package(hostile.root.parent / "hostile.tgz")
    no_bwrap = path_without_bwrap(tmp_path)

    refused = preview(hostile, package, "--approve", path=no_bwrap)
    assert refused.returncode == 7, refused.stdout + refused.stderr
    assert "This computer cannot isolate the package: it runs with your rights" in refused.stderr
    assert "bubblewrap" in refused.stderr and "--allow-unisolated" in refused.stderr
    assert "ATTEMPT" not in refused.stdout  # not a line of the package ran
    assert hostile.listener.connections == 0

    agreed = preview(hostile, package, "--allow-unisolated", path=no_bwrap)
    assert agreed.returncode == 0, agreed.stderr[-3000:]
    assert "This computer cannot isolate the package" in agreed.stdout
    # What "with your rights" means: the same package now reaches the network. (This also shows
    # that the isolated test above would notice a leak.)
    assert attempt_results(agreed.stdout)["connect_loopback"] == "succeeded"
    assert DATA_TEXT.encode() in bytes(hostile.listener.received)
    kill_leftovers(hostile.marker)

    remembered = preview(hostile, package, path=no_bwrap)  # the agreement is kept
    assert remembered.returncode == 0, remembered.stderr[-3000:]


@needs_isolation
def test_network_allowed_for_one_version_is_that_version_only(hostile):
    version_a = hostile.write_package(hostile.root.parent / "a.tgz", variant="a")
    version_b = hostile.write_package(hostile.root.parent / "b.tgz", variant="b")

    allowed = preview(hostile, version_a, "--approve", "--allow-network")
    assert allowed.returncode == 0, allowed.stderr[-3000:]
    assert "Runs with network access (you allowed it for this version)" in allowed.stdout
    results = attempt_results(allowed.stdout)
    assert results["connect_loopback"] == "succeeded"
    assert results["read_secret"].startswith("failed")  # files stay limited
    assert DATA_TEXT.encode() in bytes(hostile.listener.received)
    connections = hostile.listener.connections
    kill_leftovers(hostile.marker)

    new_version = preview(hostile, version_b, "--approve")
    assert new_version.returncode == 0, new_version.stderr[-3000:]
    assert "Runs without network access" in new_version.stdout
    assert attempt_results(new_version.stdout)["connect_loopback"].startswith("failed")

    again = preview(hostile, version_a)  # remembered with version A's approval
    assert attempt_results(again.stdout)["connect_loopback"] == "succeeded"
    time.sleep(3)
    assert hostile.listener.connections > connections

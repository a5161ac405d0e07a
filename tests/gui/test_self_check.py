"""``fedgui --self-check`` as installers and support run it: a real process, offscreen, running
the bundled example's preview through a real interpreter. It passes only when that works and
otherwise fails with the reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

from fedgui.core.resources import example_dir


def self_check(*extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fedgui", "--self-check", *extra],
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen", **(env or {})),
        capture_output=True,
        text=True,
        timeout=180,
    )


def failure_reason(result: subprocess.CompletedProcess[str]) -> str:
    """What the check printed from "example preview: FAILED" on (the reason may span lines)."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "FAILED"
    return result.stdout[result.stdout.index("example preview: FAILED") :]


def test_self_check_runs_the_example_and_prints_ok():
    result = self_check()
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "OK"
    assert any(line.startswith("packages run with: ") for line in lines)
    assert any("validate ran on the sample data (" in line and "test_accuracy=" in line for line in lines)


def test_a_missing_interpreter_fails_with_the_reason():
    missing = "/nonexistent/bin/python3"
    assert missing in failure_reason(self_check("--python", missing))


def test_an_interpreter_that_cannot_run_the_example_fails(tmp_path: Path):
    bare = tmp_path / "bare-venv"
    venv.create(bare, with_pip=False)  # a real interpreter, but without numpy
    python = bare / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    assert "No module named 'numpy'" in failure_reason(self_check("--python", str(python)))


def test_a_missing_example_package_fails(tmp_path: Path):
    resources = tmp_path / "resources"
    shutil.copytree(example_dir().parent, resources)
    shutil.rmtree(resources / "example" / "package")  # as a broken install would have it
    reason = failure_reason(self_check(env={"FEDGUI_RESOURCES": str(resources)}))
    assert "does not exist" in reason

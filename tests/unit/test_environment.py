"""Base interpreter choice and cached venvs built from python_env specs (real venvs, real pip)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from fedgui.core.events import LogLine
from fedgui.core.execution.environment import (
    COMPLETE_MARKER,
    BasePythonNotFound,
    EnvironmentBuildCancelled,
    EnvironmentBuilder,
    EnvironmentBuildFailed,
    EnvironmentBuildStep,
    RequirementInstallFailed,
    explain_pip_failure,
    is_complete,
    resolve_base_python,
    resolve_base_python_info,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths and bash in these tests")


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
        return True
    except OSError:
        return False


needs_pypi = pytest.mark.skipif(not _pypi_reachable(), reason="pip needs to reach pypi.org")


@dataclass(frozen=True)
class Spec:
    """Stands in for fedgui.core.package.PythonEnvSpec (same attributes and spec_hash)."""

    name: str = "fedn_env"
    build_dependencies: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()

    def spec_hash(self, interpreter_version: str) -> str:
        text = json.dumps([interpreter_version, self.build_dependencies, self.dependencies])
        return hashlib.sha256(text.encode()).hexdigest()


def run_in(environment, code: str) -> str:
    """Run `python -c code` through bash with the environment applied, as an entry point would."""
    environ = environment.apply_to(dict(os.environ))
    completed = subprocess.run(
        ["bash", "-c", f"python -c '{code}'"], env=environ, capture_output=True, text=True, check=True
    )
    return completed.stdout.strip()


# -- base interpreter ---------------------------------------------------------------------------


def test_default_base_is_the_running_interpreter():
    info = resolve_base_python_info()
    assert info.version[:2] == sys.version_info[:2]
    assert resolve_base_python() == Path(sys.executable)


def test_preferred_interpreter_is_checked(tmp_path):
    assert resolve_base_python(sys.executable) == Path(sys.executable)
    with pytest.raises(BasePythonNotFound, match="Could not start"):
        resolve_base_python(tmp_path / "no-such-python")
    not_python = tmp_path / "fake-python"
    not_python.write_text("#!/bin/sh\necho hello\n")
    not_python.chmod(0o755)
    with pytest.raises(BasePythonNotFound, match="did not answer like a Python"):
        resolve_base_python(not_python)


def test_too_old_python_is_refused(tmp_path):
    old = tmp_path / "old-python"
    answer = json.dumps(
        {"version": [3, 8, 10], "implementation": "CPython", "executable": str(old), "frozen": False}
    )
    old.write_text(f"#!/bin/sh\necho '{answer}'\n")
    old.chmod(0o755)
    with pytest.raises(BasePythonNotFound, match=r"3\.8\.10.*3\.9 or newer"):
        resolve_base_python(old)


def test_frozen_app_falls_back_to_python_on_path(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    found = resolve_base_python()
    assert found.exists()
    assert "fedgui" not in found.name


def test_no_interpreter_at_all_is_a_plain_error(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BasePythonNotFound) as info:
        resolve_base_python()
    assert "No usable Python interpreter" in str(info.value)
    assert "Install Python" in str(info.value)


# -- no python_env ------------------------------------------------------------------------------


def test_without_python_env_python_on_path_is_the_base(tmp_path):
    environment = EnvironmentBuilder(tmp_path / "envs").ensure(None, sys.executable)
    assert environment.python == Path(sys.executable)
    assert run_in(environment, "import sys; print(sys.executable)") == sys.executable
    # numpy comes with the base interpreter (it is a fedgui dependency), so packages without
    # python_env can use it.
    assert run_in(environment, "import numpy; print(1)") == "1"


# -- python_env ---------------------------------------------------------------------------------


def test_venv_without_dependencies_is_built_once_and_reused(tmp_path):
    builder = EnvironmentBuilder(tmp_path / "envs")
    steps: list[EnvironmentBuildStep] = []
    environment = builder.ensure(Spec(), sys.executable, on_progress=steps.append)
    env_dir = Path(environment.variables["VIRTUAL_ENV"])
    assert env_dir.parent == tmp_path / "envs"
    assert is_complete(env_dir)
    assert [(s.index, s.total) for s in steps] == [(1, 1)]
    assert run_in(environment, "import sys; print(sys.prefix)") == str(env_dir)

    marker_time = (env_dir / COMPLETE_MARKER).stat().st_mtime_ns
    steps.clear()
    again = builder.ensure(Spec(), sys.executable, on_progress=steps.append)
    assert again == environment and steps == []
    assert (env_dir / COMPLETE_MARKER).stat().st_mtime_ns == marker_time


def test_half_built_environment_is_removed_not_reused(tmp_path):
    builder = EnvironmentBuilder(tmp_path / "envs")
    environment = builder.ensure(Spec(), sys.executable)
    env_dir = Path(environment.variables["VIRTUAL_ENV"])
    # Simulate a build that was killed before it finished: the marker is written last.
    (env_dir / COMPLETE_MARKER).unlink()
    (env_dir / "leftover-from-killed-build").write_text("x")
    assert not is_complete(env_dir)
    lines: list[LogLine] = []
    rebuilt = builder.ensure(Spec(), sys.executable, on_line=lines.append)
    assert rebuilt == environment
    assert is_complete(env_dir)
    assert not (env_dir / "leftover-from-killed-build").exists()
    assert any("unfinished" in line.text for line in lines)


def test_cancelled_build_leaves_nothing_behind(tmp_path, monkeypatch):
    builder = EnvironmentBuilder(tmp_path / "envs")
    original = EnvironmentBuilder._create_venv

    def create_then_cancel(self, base, target, on_line):
        original(self, base, target, on_line)
        self.cancel()

    monkeypatch.setattr(EnvironmentBuilder, "_create_venv", create_then_cancel)
    with pytest.raises(EnvironmentBuildCancelled):
        builder.ensure(Spec(dependencies=("six",)), sys.executable)
    assert [p.name for p in (tmp_path / "envs").iterdir() if not p.name.endswith(".lock")] == []


@needs_pypi
def test_dependencies_are_installed_with_pip_output_streamed(tmp_path):
    builder = EnvironmentBuilder(tmp_path / "envs")
    lines: list[LogLine] = []
    steps: list[EnvironmentBuildStep] = []
    spec = Spec(build_dependencies=("wheel",), dependencies=("six",))
    environment = builder.ensure(spec, sys.executable, on_line=lines.append, on_progress=steps.append)
    assert run_in(environment, "import six; print(six.__name__)") == "six"
    assert [(s.index, s.total) for s in steps] == [(1, 3), (2, 3), (3, 3)]
    assert any(line.source == "pip" and "six" in line.text for line in lines)


@needs_pypi
def test_missing_requirement_names_it_with_pips_reason(tmp_path):
    builder = EnvironmentBuilder(tmp_path / "envs")
    spec = Spec(dependencies=("six", "fedgui-no-such-package-4711"))
    with pytest.raises(RequirementInstallFailed) as info:
        builder.ensure(spec, sys.executable)
    err = info.value
    assert err.requirement == "fedgui-no-such-package-4711"
    assert str(err).startswith("Could not install fedgui-no-such-package-4711: ")
    assert "No matching distribution found" in str(err)
    # a failed build is not left for reuse
    assert [p for p in (tmp_path / "envs").iterdir() if not p.name.endswith(".lock")] == []


def test_pip_error_lines_are_explained():
    lines = [
        "ERROR: Could not find a version that satisfies the requirement torchx==9.9 (from versions: none)",
        "ERROR: No matching distribution found for torchx==9.9",
    ]
    err = explain_pip_failure(lines, ["numpy", "torchx==9.9"])
    assert err.requirement == "torchx==9.9"
    assert str(err).startswith(
        "Could not install torchx==9.9: No matching distribution found for torchx==9.9"
    )
    assert "operator" in str(err)  # the next step says whom to tell

    unknown = explain_pip_failure([], ["a", "b"])
    assert unknown.requirement == "a, b"


def test_venv_creation_failure_says_what_to_install(tmp_path):
    # An interpreter without ensurepip (Debian without python3-venv) answers the probe but
    # cannot create a venv.
    fake = tmp_path / "python3"
    answer = json.dumps({"version": [3, 11, 2], "implementation": "CPython", "executable": str(fake)})
    fake.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-c" ]; then echo \'{answer}\'; exit 0; fi\n'
        'echo "Error: ensurepip is not available." >&2\nexit 1\n'
    )
    fake.chmod(0o755)
    with pytest.raises(EnvironmentBuildFailed) as info:
        EnvironmentBuilder(tmp_path / "envs").ensure(Spec(), fake)
    assert "ensurepip is not available" in str(info.value)
    assert "python3-venv" in str(info.value)
    assert [p for p in (tmp_path / "envs").iterdir() if not p.name.endswith(".lock")] == []


def test_windows_gui_interpreter_is_swapped_for_its_console_twin(tmp_path):
    from fedgui.core.execution.environment import console_interpreter

    (tmp_path / "pythonw.exe").write_bytes(b"")
    (tmp_path / "python.exe").write_bytes(b"")
    assert console_interpreter(str(tmp_path / "pythonw.exe")) == str(tmp_path / "python.exe")
    assert console_interpreter("/usr/bin/python3") == "/usr/bin/python3"

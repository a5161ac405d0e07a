"""Inside bubblewrap a step runs without the step supervisor: bwrap's PID namespace does its job.
Real bwrap processes: what a step leaves running ends with it, a stop gives the step SIGTERM and
its grace time before everything is killed, and a killed fedgui leaves nothing running.

Processes inside the sandbox have other pids there, so each leftover is a ``sleep`` with a
duration unique to the test, found from outside by its command line.
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from fedgui.core.events import LogLine
from fedgui.core.execution.environment import EnvironmentBuilder, resolve_base_python_info
from fedgui.core.execution.errors import EntryPointCancelled, EntryPointTimedOut
from fedgui.core.execution.runner import KILL_GRACE_SECONDS, EntryPointRunner
from fedgui.core.execution.sandbox import detect_isolation, make_sandbox

pytestmark = pytest.mark.skipif(detect_isolation().method != "bwrap", reason="bubblewrap is needed (Linux)")

# Leaves a daemon that ignores SIGTERM (double fork, new session) and a child in a session of its
# own, then either exits at once or (mode "stay") traps SIGTERM, notes it in the task folder and
# keeps running.
STEP = """
import os, signal, subprocess, sys, time
mark, out, mode = sys.argv[1], os.path.dirname(sys.argv[2]), sys.argv[3]  # the task folder
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.execvp("sleep", ["sleep", mark])
    os._exit(0)
os.wait()
subprocess.Popen(["sleep", mark], start_new_session=True)
if mode == "stay":
    def noted(signum, frame):
        with open(os.path.join(out, "got-sigterm"), "w") as handle:
            handle.write("yes")
    signal.signal(signal.SIGTERM, noted)
    open(os.path.join(out, "started"), "w").close()
    while True:
        time.sleep(0.1)
print("done", flush=True)
"""


@pytest.fixture(scope="module")
def environment(tmp_path_factory):
    return EnvironmentBuilder(tmp_path_factory.mktemp("envs")).ensure(None, resolve_base_python_info())


@pytest.fixture
def mark():
    value = f"{1000 + secrets.randbelow(10**6) / 10**7:.7f}"
    yield value
    for proc in _marked(value):  # nothing of a failed test outlives it
        with contextlib.suppress(psutil.Error):
            proc.kill()


def _marked(mark: str) -> list[psutil.Process]:
    return [
        p
        for p in psutil.process_iter(["cmdline", "status"])
        if mark in (p.info["cmdline"] or []) and p.info["status"] != psutil.STATUS_ZOMBIE
    ]


def _gone_within(mark: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _marked(mark):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _runner(tmp_path: Path, environment, lines: list[LogLine]) -> tuple[EntryPointRunner, Path]:
    package, data, task = tmp_path / "pkg", tmp_path / "data", tmp_path / "task"
    for folder in (package, data, task):
        folder.mkdir()
    (package / "step.py").write_text(STEP, encoding="utf-8")
    sandbox = make_sandbox(environment, package, data)
    assert sandbox is not None and sandbox.ends_leftovers

    def sink(event: object) -> None:
        if isinstance(event, LogLine):
            lines.append(event)

    runner = EntryPointRunner(
        package, {"train": "python step.py"}, environment, data, sink=sink, sandbox=sandbox
    )
    return runner, task


def test_leftovers_end_with_the_step_without_a_supervisor(tmp_path, environment, mark):
    lines: list[LogLine] = []
    runner, task = _runner(tmp_path, environment, lines)
    assert not runner._supervised
    started = time.monotonic()
    result = runner.run("train", [mark, str(task / "out"), "exit"])
    assert result.exit_code == 0 and time.monotonic() - started < 10
    assert _gone_within(mark, 2.0), "a process the step left outlived it"
    assert "done" in [line.text for line in lines]
    # No word about leftovers: the person has nothing to do, and bwrap's own exit is none.
    assert not any("background" in line.text for line in lines)


@pytest.mark.parametrize("how", ["cancel", "time limit"])
def test_a_stop_gives_the_step_sigterm_and_its_grace_then_ends_everything(tmp_path, environment, mark, how):
    runner, task = _runner(tmp_path, environment, [])
    if how == "cancel":

        def cancel_once_started() -> None:
            deadline = time.monotonic() + 30
            while not (task / "started").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            runner.cancel()

        threading.Thread(target=cancel_once_started, daemon=True).start()
    expected = EntryPointCancelled if how == "cancel" else EntryPointTimedOut
    started = time.monotonic()
    with pytest.raises(expected):
        runner.run("train", [mark, str(task / "out"), "stay"], timeout=None if how == "cancel" else 3.0)
    took = time.monotonic() - started
    assert (task / "got-sigterm").read_text() == "yes"  # asked first, as the supervisor does
    assert took >= KILL_GRACE_SECONDS  # it ignored the request: killed only after the grace time
    assert took < 30
    assert _gone_within(mark, 2.0), "a process of the stopped step outlived it"


RUN_IN_A_SEPARATE_PROCESS = """
import sys
from pathlib import Path
from fedgui.core.execution.environment import EnvironmentBuilder, resolve_base_python_info
from fedgui.core.execution.runner import EntryPointRunner
from fedgui.core.execution.sandbox import make_sandbox
package, envs, mark, task = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
environment = EnvironmentBuilder(envs).ensure(None, resolve_base_python_info())
runner = EntryPointRunner(package, {"train": "python step.py"}, environment, None,
                          sandbox=make_sandbox(environment, package, None))
runner.run("train", [mark, task, "stay"])
"""


def test_a_killed_fedgui_leaves_no_sandboxed_step_running(tmp_path, environment, mark):
    # kill -9 of fedgui mid-step: bwrap (--die-with-parent) is told by the kernel and its PID
    # namespace ends with it.
    package, task = tmp_path / "pkg", tmp_path / "task"
    package.mkdir()
    task.mkdir()
    (package / "step.py").write_text(textwrap.dedent(STEP), encoding="utf-8")
    envs = tmp_path / "envs"  # no python_env: the interpreter running the tests, nothing to build
    fedgui = subprocess.Popen(
        [sys.executable, "-c", RUN_IN_A_SEPARATE_PROCESS, str(package), str(envs), mark, str(task / "out")]
    )
    try:
        deadline = time.monotonic() + 60
        while len(_marked(mark)) < 2:
            assert time.monotonic() < deadline and fedgui.poll() is None, "the step did not start"
            time.sleep(0.1)
    finally:
        fedgui.kill()
        fedgui.wait()
    assert _gone_within(mark, 10.0), "the step kept running after fedgui was killed"

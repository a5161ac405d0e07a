"""Run a compute package's entry points exactly as FEDn 0.33 does (protocol §5.4), but watched.

Same as FEDn: ``bash -c "<command> <args>"`` (``cmd /c`` on Windows) in the package root, the
inherited environment, ``.npz`` temp paths, ``<in>-metadata`` with the client settings.
Added: ``FEDN_DATA_PATH`` and the profile's variables, our secrets kept out, output streamed
line by line as events, ``FEDGUI_METRIC`` lines turned into live metrics, CPU/memory sampling,
timeout and cancel that stop the whole process tree, and checks of the output files.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import re
import secrets
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from fedgui.core.events import EventSink, LogLine, ResourceUsage, ignore_event
from fedgui.core.execution.environment import PythonEnvironment
from fedgui.core.execution.errors import (
    EntryPointCancelled,
    EntryPointCrashed,
    EntryPointMissing,
    EntryPointStartFailed,
    EntryPointTimedOut,
)
from fedgui.core.execution.metric_lines import (
    MalformedMetricLine,
    has_non_finite,
    is_metric_line,
    parse_metric_line,
)
from fedgui.core.execution.outputs import (
    check_model_output,
    metadata_path,
    read_prediction,
    read_train_metadata,
    read_validation_metrics,
)
from fedgui.core.execution.pipe_reader import PipeLineReader
from fedgui.core.execution.process_tree import (
    IS_WINDOWS,
    TreeSampler,
    kill_group_leftovers,
    new_group_popen_kwargs,
    process_tree,
    supervised_argv,
    terminate_tree,
)
from fedgui.core.execution.sandbox import Sandbox, task_folders
from fedgui.core.fileio import atomic_write_text

__all__ = [
    "EntryPointRunner",
    "RunResult",
    "TrainOutput",
    "build_entry_point_argv",
    "build_entry_point_environ",
    "new_model_temp_path",
    "new_temp_path",
]

#: Lines of stderr kept for the error message; the rest only streams past (bounded memory).
STDERR_TAIL_LINES = 20
#: Longer lines are split, so a script printing one endless line cannot exhaust memory.
MAX_LINE_BYTES = 64 * 1024
RESOURCE_SAMPLE_SECONDS = 1.0
#: How long the step's processes get to stop after SIGTERM (cancel, time limit, or left running
#: after the step exited) before they are killed.
KILL_GRACE_SECONDS = 3.0
#: How much longer than the grace time the supervisor may take before fedgui kills it all itself.
SUPERVISOR_MARGIN_SECONDS = 2.0
FALLBACK_GRACE_SECONDS = 1.0
#: After the step exited: how long to wait for the rest of its output before stopping leftovers
#: that still hold the pipes, and again before stopping to read.
DRAIN_SECONDS = 2.0

log = logging.getLogger(__name__)

# Variables that look like credentials never reach package code unless the profile sets them
# explicitly: the package is someone else's code, and our controller token must stay ours.
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|PRIVATE_KEY", re.IGNORECASE)


@dataclass(frozen=True)
class RunResult:
    entry_point: str
    argv: list[str]
    exit_code: int
    duration_seconds: float
    stderr_tail: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TrainOutput:
    model_path: Path
    metadata: dict[str, Any]
    result: RunResult


def build_entry_point_argv(command: str, args: Sequence[str]) -> list[str]:
    """FEDn's argv: the fedn.yaml command with the arguments appended after single spaces."""
    line = " ".join([command, *[str(arg) for arg in args]])
    return ["cmd", "/c", line] if IS_WINDOWS else ["bash", "-c", line]


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def build_entry_point_environ(
    environment: PythonEnvironment,
    data_folder: Path | None,
    extra_env: Mapping[str, str] | None = None,
    inherited: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The inherited environment minus secret-looking names, with the package's Python first on
    PATH, ``FEDN_DATA_PATH``, and the profile's own variables (which win, even secret ones)."""
    base = {
        k: v for k, v in (os.environ if inherited is None else inherited).items() if not is_secret_name(k)
    }
    environ = environment.apply_to(base)
    # Without these a Python script's stdout is block-buffered on a pipe: no live log, and
    # stdout/stderr would arrive out of order. The profile may still override them.
    environ.setdefault("PYTHONUNBUFFERED", "1")
    environ.setdefault("PYTHONIOENCODING", "utf-8")
    if data_folder is not None:
        environ["FEDN_DATA_PATH"] = str(data_folder)
    environ.update({str(k): str(v) for k, v in (extra_env or {}).items()})
    return environ


def new_temp_path(folder: Path | None = None, suffix: str = "") -> Path:
    """An empty temp file (like FEDn's ``tempfile.mkstemp``) that the caller deletes."""
    fd, name = tempfile.mkstemp(suffix=suffix, dir=folder)
    os.close(fd)
    return Path(name)


def new_model_temp_path(folder: Path | None = None) -> Path:
    """A temp model path ending in ``.npz``: numpy adds the suffix to bare paths, so a package
    saving with ``np.savez`` would otherwise write to another file (protocol §5.4, §10.6)."""
    return new_temp_path(folder, suffix=".npz")


class EntryPointRunner:
    """Runs one package's entry points, one at a time; ``cancel()`` works from any thread."""

    def __init__(
        self,
        package_root: Path,
        entry_points: Mapping[str, str],
        environment: PythonEnvironment,
        data_folder: Path | None,
        extra_env: Mapping[str, str] | None = None,
        sink: EventSink | None = None,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.package_root = Path(package_root)
        #: None: the steps run with the person's rights (no isolation here, and they agreed).
        self.sandbox = sandbox
        self.entry_points = dict(entry_points)
        self.environment = environment
        # Absolute: the entry point runs in the package folder, where a relative path means something else.
        self.data_folder = Path(data_folder).resolve() if data_folder is not None else None
        self.extra_env = dict(extra_env or {})
        self._sink = sink or ignore_event
        self._run_lock = threading.Lock()
        self._cancelled = threading.Event()
        self._wake = threading.Event()
        # Marks the step supervisor's own lines on stderr; random, so package output cannot pose as one.
        self._report_prefix = f"fedgui-supervisor-{secrets.token_hex(4)}: "

    # -- the FEDn entry points -----------------------------------------------------------------

    def train(
        self,
        in_model: Path,
        out_model: Path,
        client_settings: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        helper_type: str | None = None,
    ) -> TrainOutput:
        """``train <in> <out>``; returns the checked model path and its ``-metadata`` object.
        ``helper_type`` is the network's model format ("numpyhelper"): with it the model's
        content is checked too."""
        in_model, out_model = Path(in_model), Path(out_model)
        # FEDn writes the round's client settings next to the input model, {} when there are none.
        atomic_write_text(metadata_path(in_model), json.dumps(dict(client_settings or {})))
        result = self.run("train", [str(in_model), str(out_model)], timeout=timeout)
        check_model_output("train", out_model, helper_type)
        metadata = read_train_metadata("train", out_model)
        if metadata["num_examples"] == 0:
            self._client_line("train", "The training metadata says num_examples is 0.", "warning")
        return TrainOutput(model_path=out_model, metadata=metadata, result=result)

    def validate(self, in_model: Path, out_json: Path, timeout: float | None = None) -> dict[str, Any]:
        """``validate <in> <out.json>``; returns the metrics object."""
        self.run("validate", [str(in_model), str(out_json)], timeout=timeout)
        metrics = read_validation_metrics("validate", Path(out_json))
        odd = has_non_finite(metrics)
        if odd:
            self._client_line(
                "validate",
                f"These metrics are not finite numbers (NaN or infinite): {', '.join(odd)}.",
                "warning",
            )
        return metrics

    def predict(self, in_model: Path, out_json: Path, timeout: float | None = None) -> Any:
        """``predict <in> <out.json>``; returns the parsed JSON."""
        self.run("predict", [str(in_model), str(out_json)], timeout=timeout)
        return read_prediction("predict", Path(out_json))

    def startup(self, timeout: float | None = None) -> RunResult | None:
        """``startup`` (no arguments) if the package has one; FEDn runs it once after env setup."""
        if "startup" not in self.entry_points:
            return None
        return self.run("startup", [], timeout=timeout)

    def build(self, timeout: float | None = None) -> RunResult:
        """``build``: the operator's step (FEDn never runs it on a client); only on request."""
        return self.run("build", [], timeout=timeout)

    # -- running -------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the running entry point and everything it started; ``run`` then raises
        EntryPointCancelled. If no entry point runs now, the next ``run`` is the one cancelled
        (it starts nothing): a stop that comes while a task still fetches its model must not be
        lost. Returns at once (safe on a UI thread): the waiting loop does the stopping, within
        ``KILL_GRACE_SECONDS`` plus a little."""
        self._cancelled.set()
        self._wake.set()

    def run(self, name: str, args: Sequence[str], timeout: float | None = None) -> RunResult:
        """Run entry point ``name`` with ``args``; raises an EntryPointError unless it exits 0."""
        if name not in self.entry_points:
            raise EntryPointMissing(name, list(self.entry_points))
        argv = build_entry_point_argv(self.entry_points[name], args)
        environ = build_entry_point_environ(self.environment, self.data_folder, self.extra_env)
        if self.sandbox is not None:  # isolated: may write only where its files are
            argv, environ = self.sandbox.wrap(argv, environ, task_folders(args))
        with self._run_lock:
            try:
                if self._cancelled.is_set():  # cancelled before it started: start nothing
                    raise EntryPointCancelled(name)
                return self._run_locked(name, argv, environ, timeout)
            finally:
                self._cancelled.clear()  # one cancel stops one run: the running one or the next

    @property
    def _supervised(self) -> bool:
        """Whether steps run under the step supervisor. Not inside bwrap: its PID namespace
        already ends everything the step started when the step exits (the supervisor found only
        bwrap's own exiting process there), and its start cost a Python start-up per step."""
        return IS_WINDOWS or self.sandbox is None or not self.sandbox.ends_leftovers

    def _launch(self, name: str, argv: list[str], environ: dict[str, str]) -> subprocess.Popen[bytes]:
        """The one place a step's process is started: ``argv`` under the step supervisor (or
        bwrap, which does its job), in its own session, with piped output."""
        if self._supervised:
            argv = supervised_argv(self.environment.python, argv, KILL_GRACE_SECONDS, self._report_prefix)
        try:
            return subprocess.Popen(
                argv,
                cwd=self.package_root,
                env=environ,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                **new_group_popen_kwargs(),
            )
        except OSError as exc:
            raise EntryPointStartFailed(
                name, f"Could not start the package's '{name}' step: {exc}."
            ) from None

    def _run_locked(
        self, name: str, argv: list[str], environ: dict[str, str], timeout: float | None
    ) -> RunResult:
        self._client_line(name, f"Running: {argv[-1]}  (in {self.package_root})", "debug")
        started = time.monotonic()
        self._wake.clear()
        if self._cancelled.is_set():  # a cancel since run() looked: the wait loop stops it at once
            self._wake.set()
        proc = self._launch(name, argv, environ)
        stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        assert proc.stdout is not None and proc.stderr is not None  # _launch asks for both pipes
        readers = [
            PipeLineReader(
                proc.stdout, self._line_handler(name, "stdout", None), MAX_LINE_BYTES, f"{name}-stdout"
            ),
            PipeLineReader(
                proc.stderr, self._line_handler(name, "stderr", stderr_tail), MAX_LINE_BYTES, f"{name}-stderr"
            ),
        ]
        for reader in readers:
            reader.start()
        # POSIX: the root is the supervisor or bwrap, not the package's.
        sampler = TreeSampler(proc.pid, include_root=IS_WINDOWS)
        exited = threading.Event()
        try:
            timed_out = self._wait(proc, timeout, sampler, exited)
        finally:
            if not exited.is_set():  # an exception (or KeyboardInterrupt) while waiting
                self._stop_step(proc, exited)
            self._drain(proc, readers, name, sampler)
        duration = time.monotonic() - started
        tail = list(stderr_tail)
        if self._cancelled.is_set():
            raise EntryPointCancelled(name)
        if timed_out:
            raise EntryPointTimedOut(name, timeout or 0.0, tail)
        exit_code = proc.returncode
        if exit_code != 0:
            raise EntryPointCrashed(name, exit_code, tail)
        self._client_line(name, f"Finished in {duration:.1f} s.", "debug")
        return RunResult(
            entry_point=name, argv=argv, exit_code=exit_code, duration_seconds=duration, stderr_tail=tail
        )

    def _wait(
        self,
        proc: subprocess.Popen[bytes],
        timeout: float | None,
        sampler: TreeSampler,
        exited: threading.Event,
    ) -> bool:
        """Wait for the process, sampling its tree's resources; True if it was stopped for timeout.

        A thread blocks in ``proc.wait()`` so the exit is seen at once: ``Popen.wait(timeout)``
        polls with sleeps of up to 50 ms, which is most of a small task's overhead. The same
        event wakes the loop on ``cancel()``."""
        deadline = None if timeout is None else time.monotonic() + timeout

        def watch_exit() -> None:
            proc.wait()
            exited.set()
            self._wake.set()

        threading.Thread(target=watch_exit, name="entry-point-wait", daemon=True).start()
        while True:
            step = RESOURCE_SAMPLE_SECONDS
            if deadline is not None:
                step = min(step, max(0.0, deadline - time.monotonic()))
            self._wake.wait(step)
            self._wake.clear()
            if exited.is_set():
                return False
            if self._cancelled.is_set():
                self._stop_step(proc, exited)
                return False
            if deadline is not None and time.monotonic() >= deadline:
                self._stop_step(proc, exited)
                return True
            cpu, rss = sampler.sample()
            self._sink(ResourceUsage(cpu_percent=cpu, rss_bytes=rss))

    def _stop_step(self, proc: subprocess.Popen[bytes], exited: threading.Event) -> None:
        """Cancel or time limit: the whole step is stopped (SIGTERM, then SIGKILL after the grace
        time) by the supervisor, or in bwrap by fedgui in its place. If it does not exit in time,
        fedgui kills what it can reach itself."""
        if self._supervised:
            stopped = self._ask_supervisor_to_stop(proc, exited)
        else:
            stopped = self._stop_sandboxed_step(proc, exited)
        if not stopped:
            terminate_tree(proc.pid, FALLBACK_GRACE_SECONDS)
            exited.wait(FALLBACK_GRACE_SECONDS)

    @staticmethod
    def _ask_supervisor_to_stop(proc: subprocess.Popen[bytes], exited: threading.Event) -> bool:
        """SIGTERM to the supervisor, which passes it on and kills after the grace time; True
        once the step exited. Windows has no supervisor signal: False at once."""
        if IS_WINDOWS:
            return False
        with contextlib.suppress(OSError):
            proc.send_signal(signal.SIGTERM)
        return exited.wait(KILL_GRACE_SECONDS + SUPERVISOR_MARGIN_SECONDS)

    @staticmethod
    def _stop_sandboxed_step(proc: subprocess.Popen[bytes], exited: threading.Event) -> bool:
        """The supervisor's job for a step in bwrap: SIGTERM to the step's processes (not to
        bwrap, which would end the namespace at once), SIGKILL to bwrap after the grace time,
        which ends every process in its PID namespace (``--die-with-parent``). True once the
        step exited."""
        for member in process_tree(proc.pid)[1:]:
            with contextlib.suppress(psutil.Error):
                if member.name() != "bwrap":
                    member.terminate()
        if exited.wait(KILL_GRACE_SECONDS):
            return True
        with contextlib.suppress(OSError):
            proc.kill()
        return exited.wait(SUPERVISOR_MARGIN_SECONDS)

    def _drain(
        self, proc: subprocess.Popen[bytes], readers: list[PipeLineReader], name: str, sampler: TreeSampler
    ) -> None:
        """Let the readers deliver the rest of the output, for a bounded time. The supervisor
        exits only after everything the step started has ended, so the pipes normally close at
        once; if something still holds them (it escaped the supervisor), it is killed, and
        after that fedgui stops reading whatever happens."""
        deadline = time.monotonic() + DRAIN_SECONDS
        for reader in readers:
            reader.join(max(0.0, deadline - time.monotonic()))
        if any(reader.is_alive() for reader in readers):
            self._client_line(name, "Stopping processes the step left running in the background.", "warning")
            kill_group_leftovers(proc.pid)
            sampler.kill_seen()
            deadline = time.monotonic() + DRAIN_SECONDS
            for reader in readers:
                reader.join(max(0.0, deadline - time.monotonic()))
        for reader in readers:
            reader.stop()
        for reader in readers:
            reader.join(1.0)
            if not reader.close_pipe_if_done():
                log.warning("a reader of the %s step did not stop; its pipe stays open", name)

    def _line_handler(
        self, name: str, stream: str, tail: collections.deque[str] | None
    ) -> Callable[[bytes], None]:
        def handle(raw: bytes) -> None:
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if stream == "stderr" and text.startswith(self._report_prefix):
                self._supervisor_said(name, text[len(self._report_prefix) :], tail)
                return
            if tail is not None:
                tail.append(text)
            self._deliver(name, stream, text)

        return handle

    def _supervisor_said(self, name: str, text: str, tail: collections.deque[str] | None) -> None:
        """A line from the step supervisor (see step_supervisor.py), in words for the person."""
        kind, _, detail = text.partition(" ")
        if kind == "left-running":
            self._client_line(
                name,
                f"The step finished but left {detail} running in the background; fedgui ended "
                "them, so that nothing of the package keeps running after its step.",
                "warning",
            )
        elif kind == "stopped":
            self._client_line(name, f"Stopped the step: {detail}.", "debug")
        else:
            if tail is not None:
                tail.append(text)
            self._client_line(name, text, "error")

    def _deliver(self, name: str, stream: str, text: str) -> None:
        if stream == "stdout" and is_metric_line(text):
            try:
                self._sink(parse_metric_line(text, source=name))
                return
            except MalformedMetricLine as exc:
                self._client_line(name, f"Ignored a malformed FEDGUI_METRIC line: {exc}.", "warning")
        self._sink(LogLine(source=name, stream=stream, text=text))

    def _client_line(self, name: str, text: str, level: str) -> None:
        self._sink(LogLine(source=name, stream="client", text=text, level=level))

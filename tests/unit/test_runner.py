"""EntryPointRunner with real subprocesses: argv/cwd/env as FEDn, streaming, metrics, failures."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from fedgui.core.events import LogLine, MetricReported, ResourceUsage
from fedgui.core.execution.environment import PythonEnvironment
from fedgui.core.execution.errors import (
    EntryPointCancelled,
    EntryPointCrashed,
    EntryPointMissing,
    EntryPointTimedOut,
    MetricsOutputInvalid,
    MetricsOutputMissing,
    ModelOutputMissing,
    TrainMetadataInvalid,
    TrainMetadataMissing,
)
from fedgui.core.execution.runner import (
    EntryPointRunner,
    build_entry_point_argv,
    new_model_temp_path,
    new_temp_path,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="entry points run through bash here")

PYTHON = Path(sys.executable)


class Recorder:
    def __init__(self) -> None:
        self.events: list = []
        self._lock = threading.Lock()

    def __call__(self, event) -> None:
        with self._lock:
            self.events.append(event)

    def lines(self, stream: str | None = None) -> list[str]:
        return [
            e.text for e in self.events if isinstance(e, LogLine) and (stream is None or e.stream == stream)
        ]

    def of(self, kind) -> list:
        return [e for e in self.events if isinstance(e, kind)]


def make_package(root: Path, scripts: dict[str, str], entry_points: dict[str, str]) -> dict[str, str]:
    root.mkdir(parents=True, exist_ok=True)
    for name, body in scripts.items():
        (root / name).write_text(textwrap.dedent(body), encoding="utf-8")
    return entry_points


def make_runner(tmp_path: Path, scripts: dict[str, str], entry_points: dict[str, str], **kwargs):
    package = tmp_path / "package"
    entry_points = make_package(package, scripts, entry_points)
    recorder = Recorder()
    environment = PythonEnvironment(python=PYTHON, bin_dir=PYTHON.parent)
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    runner = EntryPointRunner(
        package, entry_points, environment, data, extra_env=kwargs.get("extra_env"), sink=recorder
    )
    return runner, recorder, package, data


DUMP = """
import json, os, sys
with open(os.environ["DUMP_TO"], "w") as f:
    json.dump({"argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ),
               "executable": sys.executable}, f)
"""


def test_argv_is_fedn_shell_line():
    assert build_entry_point_argv("python train.py", ["/tmp/a.npz", "/tmp/b.npz"]) == [
        "bash",
        "-c",
        "python train.py /tmp/a.npz /tmp/b.npz",
    ]
    assert build_entry_point_argv("python startup.py", []) == ["bash", "-c", "python startup.py"]


def test_argv_cwd_and_environment_as_fedn(tmp_path, monkeypatch):
    dump = tmp_path / "dump.json"
    monkeypatch.setenv("FEDN_AUTH_TOKEN", "do-not-leak")
    monkeypatch.setenv("MY_DB_PASSWORD", "do-not-leak")
    monkeypatch.setenv("HARMLESS_SETTING", "kept")
    runner, _, package, data = make_runner(
        tmp_path,
        {"dump.py": DUMP},
        {"predict": "python dump.py extra-word"},
        extra_env={"DUMP_TO": str(dump), "PROFILE_API_TOKEN": "explicitly-given"},
    )
    runner.run("predict", ["/in/model.npz", "/out/result.json"])
    seen = json.loads(dump.read_text())
    assert seen["argv"][1:] == ["extra-word", "/in/model.npz", "/out/result.json"]
    assert Path(seen["cwd"]).resolve() == package.resolve()
    env = seen["env"]
    assert env["FEDN_DATA_PATH"] == str(data)
    assert "FEDN_AUTH_TOKEN" not in env and "MY_DB_PASSWORD" not in env
    assert env["HARMLESS_SETTING"] == "kept"
    assert env["PROFILE_API_TOKEN"] == "explicitly-given"  # the profile's own variables win
    assert env["PATH"].split(os.pathsep)[0] == str(PYTHON.parent)
    # `python` in the command resolved to our interpreter through PATH
    assert Path(seen["executable"]).parent == PYTHON.parent


def test_shell_expansion_works_like_fedn(tmp_path):
    runner, recorder, _, _ = make_runner(tmp_path, {}, {"startup": 'echo "opts=[$ENTRYPOINT_OPTS]"'})
    runner.startup()
    assert "opts=[]" in recorder.lines("stdout")


def test_stdout_and_stderr_lines_stream_in_order(tmp_path):
    script = """
    import sys, time
    for i in range(5):
        print(f"out {i}")
        time.sleep(0.05)  # two reader threads: only lines apart in time arrive in order
        print(f"err {i}", file=sys.stderr)
        time.sleep(0.05)
    """
    runner, recorder, _, _ = make_runner(tmp_path, {"s.py": script}, {"startup": "python s.py"})
    runner.startup()
    ordered = [(e.stream, e.text) for e in recorder.of(LogLine) if e.stream in ("stdout", "stderr")]
    assert ordered == [pair for i in range(5) for pair in (("stdout", f"out {i}"), ("stderr", f"err {i}"))]
    assert all(e.source == "startup" for e in recorder.of(LogLine))


def test_undecodable_bytes_are_replaced(tmp_path):
    script = "import sys; sys.stdout.buffer.write(b'caf\\xe9 ok\\n')"
    runner, recorder, _, _ = make_runner(tmp_path, {"s.py": script}, {"startup": "python s.py"})
    runner.startup()
    assert "caf\ufffd ok" in recorder.lines("stdout")


def test_metric_lines_become_events(tmp_path):
    script = """
    print('FEDGUI_METRIC {"loss": 0.5, "accuracy": 0.75, "step": 3}')
    print('FEDGUI_METRIC {"loss": 0.25}')
    print('FEDGUI_METRIC {"loss": "high"}')
    print('FEDGUI_METRIC not json')
    print('plain line')
    """
    runner, recorder, _, _ = make_runner(tmp_path, {"s.py": script}, {"startup": "python s.py"})
    runner.startup()
    metrics = recorder.of(MetricReported)
    assert [(m.values, m.step, m.source) for m in metrics] == [
        ({"loss": 0.5, "accuracy": 0.75}, 3, "startup"),
        ({"loss": 0.25}, None, "startup"),
    ]
    stdout = recorder.lines("stdout")
    assert stdout == ['FEDGUI_METRIC {"loss": "high"}', "FEDGUI_METRIC not json", "plain line"]
    warnings = [e for e in recorder.of(LogLine) if e.level == "warning"]
    assert len(warnings) == 2 and all("FEDGUI_METRIC" in w.text for w in warnings)


def test_crash_reports_exit_code_and_stderr_tail(tmp_path):
    script = """
    import sys
    for i in range(30):
        print(f"problem line {i}", file=sys.stderr)
    sys.exit(3)
    """
    runner, _, _, _ = make_runner(tmp_path, {"s.py": script}, {"validate": "python s.py"})
    with pytest.raises(EntryPointCrashed) as info:
        runner.run("validate", ["a", "b"])
    err = info.value
    assert err.exit_code == 3
    assert err.stderr_tail == [f"problem line {i}" for i in range(10, 30)]
    text = str(err)
    assert "exit code 3" in text and "problem line 29" in text and "problem line 9\n" not in text


def test_command_not_found_is_explained(tmp_path):
    runner, _, _, _ = make_runner(tmp_path, {}, {"startup": "no-such-program-xyz"})
    with pytest.raises(EntryPointCrashed, match="command not found"):
        runner.startup()


def test_missing_entry_point(tmp_path):
    runner, _, _, _ = make_runner(tmp_path, {}, {"train": "true"})
    with pytest.raises(EntryPointMissing, match="'validate'"):
        runner.validate(tmp_path / "in.npz", tmp_path / "out.json")
    assert runner.startup() is None  # a missing startup is fine, as in FEDn


def test_timeout_stops_the_step(tmp_path):
    runner, _, _, _ = make_runner(
        tmp_path,
        {"s.py": "import time, sys\nprint('going', file=sys.stderr, flush=True)\ntime.sleep(60)"},
        {"train": "python s.py"},
    )
    started = time.monotonic()
    with pytest.raises(EntryPointTimedOut) as info:
        runner.run("train", [], timeout=1.0)
    assert time.monotonic() - started < 15
    assert info.value.stderr_tail == ["going"]


SPAWNER = """
import subprocess, sys, time, os
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
with open(os.environ["PIDS_TO"], "w") as f:
    f.write(f"{os.getpid()} {child.pid}")
time.sleep(120)
"""


def _wait_for(path: Path, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, "the script never wrote its pids"
        time.sleep(0.05)


def _all_gone(pids: list[int], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
        if not alive:
            return True
        time.sleep(0.1)
    return False


def test_a_cancel_before_the_run_stops_that_run_and_only_that_one(tmp_path):
    """A stop may come while the task still fetches its model: the step that starts next is the
    one cancelled (it starts nothing); the run after it is not affected."""
    marker = tmp_path / "ran"
    script = f"open({str(marker)!r}, 'a').write('x')\n"
    runner, _, _, _ = make_runner(tmp_path, {"s.py": script}, {"train": "python s.py"})
    runner.cancel()
    with pytest.raises(EntryPointCancelled):
        runner.run("train", [])
    assert not marker.exists()
    runner.run("train", [])
    assert marker.read_text() == "x"


def test_cancel_kills_grandchildren(tmp_path):
    pids_file = tmp_path / "pids"
    runner, _, _, _ = make_runner(
        tmp_path, {"s.py": SPAWNER}, {"train": "python s.py"}, extra_env={"PIDS_TO": str(pids_file)}
    )
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            runner.run("train", [])
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    _wait_for(pids_file)
    pids = [int(p) for p in pids_file.read_text().split()]
    assert all(psutil.pid_exists(pid) for pid in pids)
    runner.cancel()
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], EntryPointCancelled)
    assert _all_gone(pids)


def test_timeout_kills_grandchildren(tmp_path):
    pids_file = tmp_path / "pids"
    runner, _, _, _ = make_runner(
        tmp_path, {"s.py": SPAWNER}, {"train": "python s.py"}, extra_env={"PIDS_TO": str(pids_file)}
    )
    with pytest.raises(EntryPointTimedOut):
        runner.run("train", [], timeout=2.0)
    assert _all_gone([int(p) for p in pids_file.read_text().split()])


def test_background_leftover_does_not_hang_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr("fedgui.core.execution.runner.DRAIN_SECONDS", 0.5)
    # The shell exits at once, but a background sleeper keeps our stdout pipe open.
    runner, _, _, _ = make_runner(tmp_path, {}, {"startup": "sleep 60 & echo started"})
    started = time.monotonic()
    runner.startup()
    assert time.monotonic() - started < 10


def test_resource_usage_is_sampled(tmp_path):
    script = "import time\nend = time.time() + 2.5\nwhile time.time() < end: pass"
    runner, recorder, _, _ = make_runner(tmp_path, {"s.py": script}, {"startup": "python s.py"})
    runner.startup()
    samples = recorder.of(ResourceUsage)
    assert len(samples) >= 1
    assert all(s.rss_bytes > 0 for s in samples)


def test_hundred_megabytes_of_output_without_deadlock(tmp_path):
    # 100 MB on stdout and stderr together; only counted, so memory stays bounded.
    script = """
    import sys
    line = "x" * 1023 + "\\n"
    for i in range(50 * 1024):
        sys.stdout.write(line)
        sys.stderr.write(line)
    sys.stdout.write("tail-of-stdout\\n")
    """
    package = tmp_path / "package"
    make_package(package, {"s.py": script}, {})
    counts = {"stdout": 0, "stderr": 0}
    last: dict[str, str] = {}

    def sink(event) -> None:
        if isinstance(event, LogLine) and event.stream in counts:
            counts[event.stream] += 1
            last[event.stream] = event.text

    environment = PythonEnvironment(python=PYTHON, bin_dir=PYTHON.parent)
    runner = EntryPointRunner(package, {"startup": "python s.py"}, environment, None, sink=sink)
    rss_before = psutil.Process().memory_info().rss
    runner.startup(timeout=240)
    assert counts == {"stdout": 50 * 1024 + 1, "stderr": 50 * 1024}
    assert last["stdout"] == "tail-of-stdout"
    # Nothing accumulates the output (generous bound: allocator noise, not 100 MB).
    assert psutil.Process().memory_info().rss - rss_before < 60 * 1024 * 1024


def test_an_endless_line_is_split(tmp_path):
    script = "import sys; sys.stdout.write('y' * 300000)"
    runner, recorder, _, _ = make_runner(tmp_path, {"s.py": script}, {"startup": "python s.py"})
    runner.startup()
    chunks = recorder.lines("stdout")
    assert len(chunks) >= 4 and "".join(chunks) == "y" * 300000


# -- train / validate / predict and their output checks -----------------------------------------

TRAIN_OK = """
import json, sys
inp, out = sys.argv[1], sys.argv[2]
settings = json.load(open(inp + "-metadata"))
open(out, "wb").write(b"model-bytes")
json.dump({"num_examples": 12, "seen_settings": settings}, open(out + "-metadata", "w"))
"""


def test_train_writes_input_metadata_and_reads_output(tmp_path):
    runner, _, _, _ = make_runner(tmp_path, {"train.py": TRAIN_OK}, {"train": "python train.py"})
    in_model = new_model_temp_path(tmp_path)
    out_model = new_model_temp_path(tmp_path)
    assert in_model.suffix == ".npz" and out_model.suffix == ".npz" and out_model.stat().st_size == 0
    result = runner.train(in_model, out_model, client_settings={"lr": 0.1})
    assert result.model_path == out_model
    assert result.metadata == {"num_examples": 12, "seen_settings": {"lr": 0.1}}
    result = runner.train(in_model, out_model)
    assert result.metadata["seen_settings"] == {}


MODEL = "open(out, 'wb').write(b'm')"
META = "open(out + '-metadata', 'w').write"


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        ("pass", ModelOutputMissing, "wrote no model"),
        ("open(out, 'wb').write(b'm')", TrainMetadataMissing, "-metadata"),
        (f"{MODEL}; {META}('{{oops')", TrainMetadataInvalid, "not valid JSON"),
        (f"{MODEL}; {META}('[1]')", TrainMetadataInvalid, "not an object"),
        (f"{MODEL}; {META}('{{}}')", TrainMetadataInvalid, "num_examples"),
        (
            f'{MODEL}; {META}(\'{{"num_examples": "many"}}\')',
            TrainMetadataInvalid,
            "'many'",
        ),
    ],
)
def test_train_output_violations(tmp_path, body, error, words):
    script = f"import sys\nout = sys.argv[2]\n{body}\n"
    runner, _, _, _ = make_runner(tmp_path, {"train.py": script}, {"train": "python train.py"})
    with pytest.raises(error) as info:
        runner.train(new_model_temp_path(tmp_path), new_model_temp_path(tmp_path))
    assert words in str(info.value)


def test_validate_returns_metrics_and_warns_on_nan(tmp_path):
    script = """
    import json, sys
    json.dump({"accuracy": 0.9, "loss": float("nan"), "note": "ok"}, open(sys.argv[2], "w"))
    """
    runner, recorder, _, _ = make_runner(tmp_path, {"v.py": script}, {"validate": "python v.py"})
    out = new_temp_path(tmp_path)
    metrics = runner.validate(new_model_temp_path(tmp_path), out)
    assert metrics["accuracy"] == 0.9 and metrics["note"] == "ok"
    warnings = [e.text for e in recorder.of(LogLine) if e.level == "warning"]
    assert any("loss" in w and "NaN" in w for w in warnings)


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        ("pass", MetricsOutputMissing, "wrote no results"),
        ("open(sys.argv[2], 'w').write('not json')", MetricsOutputInvalid, "not valid JSON"),
        ("open(sys.argv[2], 'w').write('[0.5]')", MetricsOutputInvalid, "not an object"),
    ],
)
def test_validate_output_violations(tmp_path, body, error, words):
    script = f"import sys\n{body}\n"
    runner, _, _, _ = make_runner(tmp_path, {"v.py": script}, {"validate": "python v.py"})
    with pytest.raises(error) as info:
        runner.validate(new_model_temp_path(tmp_path), new_temp_path(tmp_path))
    assert words in str(info.value)


def test_predict_accepts_any_json(tmp_path):
    script = "import json, sys\njson.dump([1, 2, 3], open(sys.argv[2], 'w'))"
    runner, _, _, _ = make_runner(tmp_path, {"p.py": script}, {"predict": "python p.py"})
    assert runner.predict(new_model_temp_path(tmp_path), new_temp_path(tmp_path)) == [1, 2, 3]


def test_build_runs_only_when_asked(tmp_path):
    runner, recorder, _, _ = make_runner(tmp_path, {}, {"build": "echo building", "startup": "echo up"})
    runner.startup()
    assert "building" not in recorder.lines("stdout")
    runner.build()
    assert "building" in recorder.lines("stdout")

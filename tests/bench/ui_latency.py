"""Benchmark: how late the UI's event loop runs while an entry point floods the live log.

A real entry point (a child process run by fedgui.core.execution.runner.EntryPointRunner on a worker
thread, as the session does) prints N lines; the runner turns each into a LogLine on the
main window's real EventBus; the window's log view shows them. A 10 ms precise QTimer records
the gap between its ticks: lateness = gap - 10 ms. Prints p50/p99/max lateness, total time and
peak RSS (ru_maxrss of this process, which holds the window).

Variants (``--variant``):
  listview   the app's LogView: lines go bus → bounded deque (no Qt call on the runner's
             thread) → 50 ms batch → QListView over a list model of the newest 10 000 lines
  plaintext  the qt-lab design in the same place: bus → deque → 50 ms batch → capped
             QPlainTextEdit, appendPlainText of the joined batch, setPlainText(ring) when a
             batch has ≥ 1000 lines
  bridge     like listview, but every LogLine crosses to the UI thread as its own queued Qt
             call (gui.threads.main_thread_sink) before entering the batch

Each run is a fresh process; the last line printed is the median over the runs.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python tests/bench/ui_latency.py [--lines 200000]
     [--variant listview|plaintext|bridge] [--repeat 5] [--no-gc-freeze] [--json out.jsonl]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit

from fedgui.core.events import Event, LogLine
from fedgui.core.execution.environment import PythonEnvironment
from fedgui.core.execution.runner import EntryPointRunner
from fedgui.core.history.store import HistoryStore
from fedgui.core.profile import Profile, ProfileStore
from fedgui.gui.app import create_application, tune_runtime_for_ui
from fedgui.gui.settings.dialog import PreferencesStore
from fedgui.gui.threads import main_thread_sink
from fedgui.gui.window.main_window import MainWindow

FLOOD_PY = """\
import sys
n = int(sys.argv[1])
w = sys.stdout.write
for i in range(n):
    w(f"[{i:07d}] epoch=3 step={i} loss=0.{i % 9973:04d} some more text to make the line realistic\\n")
    if i % 5000 == 0:
        sys.stderr.write(f"warning: step {i} is slow\\n")
sys.stdout.flush()
"""


class PlainTextLog:
    """The qt-lab 'batch_smart' design, fed the same way as LogView (for comparison)."""

    def __init__(self, capacity: int = 10_000, rebuild_at: int = 1000) -> None:
        self.widget = QPlainTextEdit()
        self.widget.setReadOnly(True)
        self.widget.setUndoRedoEnabled(False)
        self.widget.setMaximumBlockCount(capacity)
        self.widget.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.ring: deque[str] = deque(maxlen=capacity)
        self.pending: deque[LogLine] = deque(maxlen=capacity)
        self.rebuild_at = rebuild_at
        self.shown = 0
        self.timer = QTimer()
        self.timer.setInterval(50)
        self.timer.timeout.connect(self.flush)
        self.timer.start()

    def observe(self, event: Event) -> None:
        if isinstance(event, LogLine):
            self.pending.append(event)

    def flush(self) -> None:
        batch = []
        while self.pending:
            batch.append(self.pending.popleft())
        if not batch:
            return
        texts = [f"{line.source:<9} {line.text}" for line in batch]
        self.ring.extend(texts)
        bar = self.widget.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 2
        if len(texts) >= self.rebuild_at:
            self.widget.setPlainText("\n".join(self.ring))
        else:
            self.widget.appendPlainText("\n".join(texts))
        if at_bottom:
            bar.setValue(bar.maximum())
        self.shown = len(self.ring)


def run_once(lines: int, variant: str, work: Path, no_gc_freeze: bool = False) -> dict:
    app = create_application()
    package = work / "package"
    package.mkdir(exist_ok=True)
    (package / "flood.py").write_text(FLOOD_PY)
    profile = Profile.new("Bench", "http://localhost:8092")
    history = HistoryStore(work / f"history-{time.time_ns()}.sqlite3")
    window = MainWindow(
        [profile],
        profile_store=ProfileStore(work / "profiles"),
        history=history,
        secrets=None,
        preferences=PreferencesStore(work / "gui.ini"),
    )
    window.show()
    if variant == "plaintext":
        window.log_view.detach()
        plain = PlainTextLog()
        window.tabs.insertTab(0, plain.widget, "Plain log")
        window.tabs.setCurrentIndex(0)
        window.controller.bus.subscribe(plain.observe)
    elif variant == "bridge":
        window.log_view.detach()
        per_line = main_thread_sink(window.log_view.submit, owner=window.log_view)  # one queued call each
        window.controller.bus.subscribe(lambda e: per_line(e) if isinstance(e, LogLine) else None)
    if not no_gc_freeze:
        tune_runtime_for_ui()  # as run_gui does once the window exists
    python = Path(sys.executable)
    runner = EntryPointRunner(
        package,
        {"flood": "python flood.py"},
        PythonEnvironment(python=python, bin_dir=python.parent),
        data_folder=work,
        sink=window.controller.bus.emit,
    )

    gaps: list[float] = []
    last = [0.0]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000.0)
        last[0] = now

    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(10)
    probe.timeout.connect(tick)
    state = {"child_done": None, "error": None}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def flood() -> None:
        try:
            runner.run("flood", [str(lines)])
        except Exception as error:  # reported in the figures
            state["error"] = repr(error)
        state["child_done"] = time.perf_counter()

    def last_line_shown() -> bool:
        wanted = f"[{lines - 1:07d}]"
        if variant == "plaintext":
            return any(wanted in text for text in list(plain.ring)[-5:])
        model = window.log_view.model
        rows = model.rowCount()
        return any(wanted in model.line(r).text for r in range(max(0, rows - 5), rows))

    def drained() -> bool:
        return not (plain.pending if variant == "plaintext" else window.log_view._pending)

    t0 = [0.0]

    def start() -> None:
        t0[0] = last[0] = time.perf_counter()
        probe.start()
        threading.Thread(target=flood, name="runner", daemon=True).start()

    def check_done() -> None:
        # The runner has returned (all its lines are on the bus) and the view took the last batch.
        if state["child_done"] is not None and drained():
            watcher.stop()
            QTimer.singleShot(60, app.quit)

    watcher = QTimer()
    watcher.setInterval(20)
    watcher.timeout.connect(check_done)
    watcher.start()
    QTimer.singleShot(300, start)  # let the window show and settle first
    QTimer.singleShot(600_000, app.quit)
    app.exec()
    total = time.perf_counter() - t0[0]
    probe.stop()
    watcher.stop()
    late = sorted(max(0.0, g - 10.0) for g in gaps)
    rows = plain.shown if variant == "plaintext" else window.log_view.model.rowCount()
    result = {
        "variant": variant,
        "platform": app.platformName(),
        "lines": lines,
        "total_s": round(total, 3),
        "child_s": round(state["child_done"] - t0[0], 3) if state["child_done"] else None,
        "ticks": len(late),
        "lateness_ms_p50": round(statistics.median(late), 2),
        "lateness_ms_p99": round(late[int(0.99 * (len(late) - 1))], 2),
        "lateness_ms_max": round(late[-1], 2),
        "gaps_over_50ms": sum(g > 50 for g in gaps),
        "rows_in_view": rows,
        "last_line_shown": last_line_shown(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_before_mb": round(rss_before / 1024, 1),
        "error": state["error"],
    }
    window.really_quit = True
    window.log_view.detach()
    window.close()
    history.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--variant", choices=("listview", "plaintext", "bridge"), default="listview")
    parser.add_argument("--repeat", type=int, default=5, help="runs, each in a fresh process")
    parser.add_argument("--json", type=Path, help="append one JSON line per run")
    parser.add_argument("--no-gc-freeze", action="store_true", help="measure without the app's gc.freeze()")
    parser.add_argument(
        "--switch-interval-ms", type=float, help="override sys.setswitchinterval (default: Python's 5 ms)"
    )
    parser.add_argument("--one-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run:
        if args.switch_interval_ms is not None:
            sys.setswitchinterval(args.switch_interval_ms / 1000)
        with tempfile.TemporaryDirectory(prefix="fedgui-ui-latency-") as tmp:
            os.environ["FEDGUI_HOME"] = tmp
            result = run_once(args.lines, args.variant, Path(tmp), args.no_gc_freeze)
        result["gc_freeze"] = not args.no_gc_freeze
        result["switch_interval_ms"] = round(sys.getswitchinterval() * 1000, 2)
        print(json.dumps(result), flush=True)
        return 0
    results = []
    child_args = ["--lines", str(args.lines), "--variant", args.variant]
    if args.no_gc_freeze:
        child_args.append("--no-gc-freeze")
    if args.switch_interval_ms is not None:
        child_args += ["--switch-interval-ms", str(args.switch_interval_ms)]
    for _ in range(args.repeat):
        # A fresh process per run: gc.freeze() and Qt state must not carry over between runs.
        out = subprocess.run(
            [sys.executable, __file__, *child_args, "--one-run"], capture_output=True, text=True, check=True
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        results.append(result)
        print(json.dumps(result), flush=True)
        if args.json:
            with args.json.open("a") as handle:
                handle.write(json.dumps(result) + "\n")
    print(summary(results))
    return 0


def summary(results: list[dict]) -> str:
    def median(key: str) -> float:
        return round(statistics.median(r[key] for r in results), 2)

    return (
        f"{results[0]['variant']} ({results[0]['lines']:,} lines, {len(results)} runs, medians): "
        f"lateness p50 {median('lateness_ms_p50')} ms, p99 {median('lateness_ms_p99')} ms, "
        f"max {median('lateness_ms_max')} ms (worst max {max(r['lateness_ms_max'] for r in results)} ms); "
        f"total {median('total_s')} s; peak RSS {median('peak_rss_mb')} MB "
        f"(before the flood {median('rss_before_mb')} MB); "
        f"last line shown in all runs: {all(r['last_line_shown'] for r in results)}"
    )


if __name__ == "__main__":
    raise SystemExit(main())

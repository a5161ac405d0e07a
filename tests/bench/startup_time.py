"""Benchmark: wall time from launching ``fedgui`` (a new process) to its main window first shown.

The app prints ``FIRST_SHOWN <epoch>`` when FEDGUI_STARTUP_MARKER is "-" (see
fedgui/gui/window/main_window.py), on the first event-loop turn after the window is shown; the
benchmark kills the process right after. Each run uses a fresh FEDGUI_HOME holding one profile
and a small history, so the real start path (profiles, history, last profile) is measured.
Warm runs: the first launch fills the page cache and is reported separately.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python tests/bench/startup_time.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def prepare_home(home: Path) -> None:
    """One profile and a few rounds of history, written by a helper process (not timed)."""
    script = (
        "from fedgui.core.profile import Profile, ProfileStore\n"
        "from fedgui.core.history.store import HistoryStore\n"
        "p = Profile.new('Bench network', 'http://localhost:8092', ready=True)\n"
        "ProfileStore().save(p)\n"
        "with HistoryStore() as h:\n"
        "    for r in range(1, 6):\n"
        "        t = h.start_task(p.id, 'validate', round_id=str(r))\n"
        "        h.add_metrics(t, 'validation', {'accuracy': 0.5 + r / 20, 'loss': 1 / r})\n"
        "        h.finish_task(t, 'ok')\n"
    )
    subprocess.run([sys.executable, "-c", script], env=_env(home), check=True, cwd=ROOT)


def _env(home: Path) -> dict[str, str]:
    return dict(
        os.environ,
        FEDGUI_HOME=str(home),
        FEDGUI_STARTUP_MARKER="-",
        QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
    )


def time_one_launch(home: Path) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "fedgui"],
        env=_env(home),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        for line in process.stdout:
            if line.startswith("FIRST_SHOWN"):
                return time.perf_counter() - started
        raise RuntimeError("the app exited without showing its window")
    finally:
        process.kill()
        process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fedgui-startup-") as tmp:
        home = Path(tmp)
        prepare_home(home)
        first = time_one_launch(home)  # warms the page cache; not in the median
        times = [time_one_launch(home) for _ in range(args.runs)]
    print("runs (s):", " ".join(f"{t:.3f}" for t in times))
    print(f"first (cold-ish) {first:.3f} s; median of {args.runs} warm runs {statistics.median(times):.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

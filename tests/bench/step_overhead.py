"""Benchmark: what the step supervisor adds to one entry-point run (issue 11 §1).

Runs a trivial step (``true``) through EntryPointRunner many times, with the supervisor (as
fedgui does) and without it (the argv passed straight to the shell), and prints the median and
the minimum per step. The difference is mostly one ``python -I -S`` start (plus ctypes).

Run: .venv/bin/python tests/bench/step_overhead.py [--runs 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

from fedgui.core.execution import runner as runner_module
from fedgui.core.execution.environment import PythonEnvironment


def measure(runs: int, supervised: bool) -> list[float]:
    folder = Path(tempfile.mkdtemp())
    python = Path(sys.executable)
    runner = runner_module.EntryPointRunner(
        folder, {"train": "true"}, PythonEnvironment(python=python, bin_dir=python.parent), folder
    )
    patch = (
        mock.patch.object(runner_module, "supervised_argv", lambda _py, argv, _g, _p: list(argv))
        if not supervised
        else mock.patch.object(runner_module, "supervised_argv", runner_module.supervised_argv)
    )
    times = []
    with patch:
        runner.run("train", [])  # warm up
        for _ in range(runs):
            started = time.perf_counter()
            runner.run("train", [])
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    for supervised in (False, True):
        times = measure(args.runs, supervised)
        label = "with the supervisor   " if supervised else "without the supervisor"
        print(
            f"{label}: median {statistics.median(times) * 1000:.1f} ms, "
            f"min {min(times) * 1000:.1f} ms per step ({args.runs} runs)"
        )


if __name__ == "__main__":
    main()

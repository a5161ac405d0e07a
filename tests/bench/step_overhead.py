"""Benchmark: what the step supervisor adds to one entry-point run (issue 11 §1, issue 13).

Runs a trivial step (``true``) through EntryPointRunner many times, with the supervisor and
without it (the argv passed straight to the shell), alternating, and prints the median and the
minimum per step. The difference is mostly one ``python -I -S`` start (plus ctypes). With
``--isolated`` both run in bubblewrap, where fedgui now runs steps without the supervisor (the
PID namespace ends what a step leaves): "with" is how it was before.

Run: .venv/bin/python tests/bench/step_overhead.py [--runs 30] [--isolated]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from fedgui.core.execution import runner as runner_module  # noqa: E402
from fedgui.core.execution.environment import PythonEnvironment  # noqa: E402
from fedgui.core.execution.sandbox import make_sandbox  # noqa: E402


def make_runner(supervised: bool, isolated: bool) -> runner_module.EntryPointRunner:
    folder = Path(tempfile.mkdtemp())
    python = Path(sys.executable)
    environment = PythonEnvironment(python=python, bin_dir=python.parent)
    sandbox = make_sandbox(environment, folder, folder) if isolated else None
    if isolated and sandbox is None:
        raise SystemExit("--isolated needs bubblewrap")

    class Runner(runner_module.EntryPointRunner):
        _supervised = supervised

    return Runner(folder, {"train": "true"}, environment, folder, sandbox=sandbox)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--isolated", action="store_true", help="both in bubblewrap")
    args = parser.parse_args()
    runners = {supervised: make_runner(supervised, args.isolated) for supervised in (False, True)}
    times: dict[bool, list[float]] = {False: [], True: []}
    for runner in runners.values():
        runner.run("train", [])  # warm up
    for _ in range(args.runs):
        for supervised, runner in runners.items():  # alternated: load drifting hits both
            started = time.perf_counter()
            runner.run("train", [])
            times[supervised].append(time.perf_counter() - started)
    where = "in bubblewrap, " if args.isolated else ""
    print(f"{where}load {os.getloadavg()[0]:.1f}")
    for supervised, values in times.items():
        label = "with the supervisor   " if supervised else "without the supervisor"
        print(
            f"{label}: median {statistics.median(values) * 1000:.1f} ms, "
            f"min {min(values) * 1000:.1f} ms per step ({args.runs} runs)"
        )


if __name__ == "__main__":
    main()

"""Benchmark: the cost of one resource sample of a step's process tree, with many other
processes on the machine.

Run: .venv/bin/python tests/bench/tree_sampler_cost.py [--others 300] [--samples 200]

It starts ``--others`` idle processes that are not part of the tree (the rest of a desktop), and
a small tree like a step's (a shell, a Python child with two workers), then times
``TreeSampler.sample()`` alternately with the children files (Linux) and with psutil's scan of
every process (the fallback elsewhere), and prints the median and spread of each.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from fedgui.core.execution import process_tree  # noqa: E402

TREE_SCRIPT = (
    "import subprocess, sys, time; "
    "[subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']) for _ in range(2)]; "
    "time.sleep(600)"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--others", type=int, default=300, help="idle processes outside the tree")
    parser.add_argument("--samples", type=int, default=200, help="samples of each way")
    args = parser.parse_args()
    if not process_tree._CHILDREN_FILES:
        print("this system has no /proc/PID/task/TID/children: only the psutil scan applies")
        return 1
    others = [subprocess.Popen(["sleep", "600"]) for _ in range(args.others)]
    tree = subprocess.Popen(["bash", "-c", f'{sys.executable} -c "{TREE_SCRIPT}"; true'])
    try:
        time.sleep(1.5)  # let the tree's workers start
        times: dict[bool, list[float]] = {True: [], False: []}
        sizes: dict[bool, int] = {}
        samplers = {fast: process_tree.TreeSampler(tree.pid) for fast in (True, False)}
        for _ in range(args.samples):
            for fast in (True, False):  # alternated: load drifting on the machine hits both
                process_tree._CHILDREN_FILES = fast
                started = time.perf_counter()
                samplers[fast].sample()
                times[fast].append(time.perf_counter() - started)
                sizes[fast] = len(samplers[fast]._known)
        process_tree._CHILDREN_FILES = True
        with open("/proc/loadavg") as handle:
            load = handle.read().split()[:3]
        print(f"{args.others} other processes, tree of {sizes[True]} (psutil: {sizes[False]}), load {load}")
        for fast, label in ((False, "psutil children(recursive=True)"), (True, "/proc children files")):
            ms = sorted(t * 1000 for t in times[fast])
            print(
                f"{label:34} median {statistics.median(ms):.2f} ms "
                f"[p10 {ms[len(ms) // 10]:.2f} – p90 {ms[len(ms) * 9 // 10]:.2f}] n={len(ms)}"
            )
    finally:
        for pid in reversed(process_tree._tree_pids_from_proc(tree.pid)[1:]):  # the workers first
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for proc in [*others, tree]:
            proc.kill()
        for proc in [*others, tree]:
            proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

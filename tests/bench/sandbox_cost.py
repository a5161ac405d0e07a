"""What isolation costs per task: the same entry point through fedgui's runner, isolated (bubblewrap)
and not, alternating in the same run on the same machine; medians of many runs.

    .venv/bin/python tests/bench/sandbox_cost.py [--runs 40] [--model-mb 100] [--model-runs 5]

1. start-up: an entry point that only writes its output (``python validate.py in out.json``) —
   everything but the step's own work is fedgui plus, when isolated, bwrap's namespaces and mounts;
2. a train step on a model of ``--model-mb`` MB (load, change, save with numpy): isolation adds
   bind mounts, never copies, so its cost must not grow with the model.

Goal (issue 10): under 50 ms per task.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fedgui.core.execution.environment import EnvironmentBuilder, resolve_base_python_info  # noqa: E402
from fedgui.core.execution.runner import EntryPointRunner  # noqa: E402
from fedgui.core.execution.sandbox import detect_isolation, make_sandbox  # noqa: E402

VALIDATE_PY = "import json, sys\njson.dump({'accuracy': 1.0}, open(sys.argv[2], 'w'))\n"
TRAIN_PY = """\
import json, sys
import numpy as np
with np.load(sys.argv[1]) as data:
    arrays = {name: data[name] + 1 for name in data.files}
with open(sys.argv[2], "wb") as handle:
    np.savez(handle, **arrays)
json.dump({"num_examples": 1}, open(sys.argv[2] + "-metadata", "w"))
"""


def timed(runner: EntryPointRunner, name: str, args: list[str]) -> float:
    started = time.perf_counter()
    runner.run(name, args)
    return time.perf_counter() - started


def compare(plain: EntryPointRunner, isolated: EntryPointRunner, name: str, make_args, runs: int):
    """Alternate plain and isolated runs (so load on the shared machine hits both alike)."""
    times: dict[str, list[float]] = {"plain": [], "isolated": []}
    for _ in range(2):  # warm-up: page cache, bwrap binary
        timed(plain, name, make_args()), timed(isolated, name, make_args())
    for _ in range(runs):
        times["plain"].append(timed(plain, name, make_args()))
        times["isolated"].append(timed(isolated, name, make_args()))
    result = {kind: statistics.median(values) * 1000 for kind, values in times.items()}
    # Each isolated run minus the plain run just before it: robust to the load drifting.
    pairs = [i - p for p, i in zip(times["plain"], times["isolated"], strict=True)]
    result["paired"] = statistics.median(pairs) * 1000
    return result


def bare_bwrap(sandbox, task: Path, runs: int) -> dict[str, float]:
    """bwrap's own share: ``/bin/true`` with and without the sandbox's namespaces and mounts."""
    import subprocess

    wrapped, _env = sandbox.wrap(["/bin/true"], {}, [task])
    times: dict[str, list[float]] = {"plain": [], "isolated": []}
    for _ in range(runs):
        for kind, argv in (("plain", ["/bin/true"]), ("isolated", wrapped)):
            started = time.perf_counter()
            subprocess.run(argv, check=True)
            times[kind].append(time.perf_counter() - started)
    result = {kind: statistics.median(values) * 1000 for kind, values in times.items()}
    result["paired"] = (
        statistics.median(i - p for p, i in zip(times["plain"], times["isolated"], strict=True)) * 1000
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--model-mb", type=int, default=100)
    parser.add_argument("--model-runs", type=int, default=5)
    options = parser.parse_args()

    support = detect_isolation()
    if not support.available:
        print(f"No isolation here: {support.reason}")
        return 1
    work = Path(tempfile.mkdtemp(prefix="fedgui-sandbox-bench-"))
    try:
        package, data, task = work / "package", work / "data", work / "task"
        for folder in (package, data, task):
            folder.mkdir()
        (package / "validate.py").write_text(VALIDATE_PY)
        (package / "train.py").write_text(TRAIN_PY)
        entry_points = {"validate": "python validate.py", "train": "python train.py"}
        environment = EnvironmentBuilder(work / "envs").ensure(None, resolve_base_python_info())
        sandbox = make_sandbox(environment, package, data, support=support)
        plain = EntryPointRunner(package, entry_points, environment, data)
        isolated = EntryPointRunner(package, entry_points, environment, data, sandbox=sandbox)

        model_in = task / "in.npz"
        np.savez(model_in, np.zeros(16, dtype=np.float32))
        small = compare(
            plain, isolated, "validate", lambda: [str(model_in), str(task / "out.json")], options.runs
        )

        big_in = task / "big.npz"
        count = options.model_mb * 1024 * 1024 // 4
        np.savez(big_in, np.random.default_rng(0).standard_normal(count, dtype=np.float32))
        big = compare(
            plain, isolated, "train", lambda: [str(big_in), str(task / "big-out.npz")], options.model_runs
        )

        bare = bare_bwrap(sandbox, task, options.runs)

        print(f"isolation: {support.method} ({support.executable}); python: {environment.python}")
        print(f"{'entry point':<40} {'plain ms':>10} {'isolated ms':>12} {'cost ms':>9} {'paired ms':>10}")
        rows = [
            (f"start-up (validate, median of {options.runs})", small),
            (f"train on {options.model_mb} MB (median of {options.model_runs})", big),
        ]
        rows.append((f"bwrap alone, same mounts (/bin/true, {options.runs})", bare))
        for label, result in rows:
            cost = result["isolated"] - result["plain"]
            print(
                f"{label:<40} {result['plain']:>10.1f} {result['isolated']:>12.1f} {cost:>9.1f}"
                f" {result['paired']:>10.1f}"
            )
        print(
            "cost = median isolated - median plain; paired = median of (isolated - the plain run before it)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Pieces of ``round_overhead.py`` and ``transfer_throughput.py``: their common command line and
scratch folder, a timed numpy package, big seed models, an RSS sampler, and readers for the FEDn
statestore and fedgui's history database.

The package's entry points time themselves (from the first line of the script to the last) and
append one JSON line per run to ``$FEDN_DATA_PATH/entry_times.jsonl``, so the entry point's own
time is known the same way under the stock client and under fedgui. Where the data folder is
read-only (fedgui runs each step isolated) the line goes to stdout instead, after
``ENTRY_TIME ``, and is read back from the client's log.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sqlite3
import statistics
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import psutil

from tests.fednet.install import ensure_environments
from tests.fednet.packages import FEDN_YAML, write_package_archive

MB = 1_000_000

ENTRY_TIMES = "entry_times.jsonl"
ENTRY_TIME_MARK = "ENTRY_TIME "  # the stdout line of a record when the data folder is read-only
ARRAY_BYTES = 16 * 1024 * 1024  # float32 arrays of 16 MiB (the last one smaller)

# train = load, add noise, save (np.savez, uncompressed), write <out>-metadata. The model is
# written through an open handle: np.savez appends ".npz" to a bare path without it.
# Both entry points start the clock on their first line and end with this.
RECORD_PY = """\
def save_record(record):
    record["seconds"] = record["end"] - STARTED
    try:
        with open(os.path.join(os.environ["FEDN_DATA_PATH"], "entry_times.jsonl"), "a") as log:
            log.write(json.dumps(record) + "\\n")
    except OSError:  # the data folder is read-only when fedgui runs the step isolated
        print("ENTRY_TIME " + json.dumps(record), flush=True)
"""
HEAD_PY = """\
import time

STARTED = time.time()
import json
import os
import sys

import numpy as np

"""

TRAIN_PY = (
    HEAD_PY
    + RECORD_PY
    + """

def main(in_path, out_path):
    rng = np.random.default_rng()
    with np.load(in_path) as data:
        arrays = {key: data[key] for key in data.files}
    for value in arrays.values():
        value += rng.standard_normal(value.shape, dtype=np.float32) * np.float32(0.01)
    with open(out_path, "wb") as handle:
        np.savez(handle, **arrays)
    with open(out_path + "-metadata", "w") as handle:
        json.dump({"num_examples": 100, "batch_size": 1, "epochs": 1}, handle)
    record = {"kind": "train", "start": STARTED, "end": time.time(),
              "in_bytes": os.path.getsize(in_path), "out_bytes": os.path.getsize(out_path)}
    save_record(record)
    print(f"trained {len(arrays)} arrays in {record['seconds']:.2f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
"""
)

VALIDATE_PY = (
    HEAD_PY
    + RECORD_PY
    + """

def main(in_path, out_path):
    with np.load(in_path) as data:
        means = [float(np.mean(data[key])) for key in data.files]
    mean = float(np.mean(means))
    with open(out_path, "w") as handle:
        json.dump({"test_loss": abs(mean), "test_accuracy": 0.5}, handle)
    record = {"kind": "validate", "start": STARTED, "end": time.time(), "in_bytes": os.path.getsize(in_path)}
    save_record(record)
    print(f"validated in {record['seconds']:.2f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
"""
)


# ---- the command line and the scratch folder ------------------------------------------------------


def add_session_arguments(parser: argparse.ArgumentParser, sizes: str, clients: str) -> None:
    """The options both session benchmarks take."""
    parser.add_argument("--sizes", default=sizes, help="model sizes in MB, comma-separated")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--round-timeout", type=int, default=900)
    parser.add_argument("--clients", default=clients, help="which clients, in this order")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temp folder, removed)")
    parser.add_argument("--keep", action="store_true", help="keep the run folders (logs, statestores)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")


def listed(text: str) -> list[str]:
    """ "a, b,," → ["a", "b"]"""
    return [item.strip() for item in text.split(",") if item.strip()]


@contextlib.contextmanager
def workspace(args: argparse.Namespace, prefix: str) -> Iterator[tuple[Path, Path]]:
    """(scratch folder, the timed package) with the test networks' environments ready; the
    folder is removed afterwards unless ``--work`` or ``--keep`` was given."""
    ensure_environments()
    work = args.work or Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    try:
        yield work, build_package(work / "package")
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def seed_models(sizes: Iterable[int], work: Path) -> Iterator[tuple[int, Path]]:
    """(size, seed model) for each size there is disk room for (a session keeps about a dozen
    copies of the model around); each seed is deleted once the caller moves on."""
    for size in sizes:
        free = shutil.disk_usage(work).free
        if free < size * MB * 12:
            print(f"skipping {size} MB: only {free / 1e9:.1f} GB free in {work}", flush=True)
            continue
        seed = build_seed_model(work / f"seed-{size}.npz", size)
        try:
            yield size, seed
        finally:
            seed.unlink(missing_ok=True)


# ---- alternating transfers in one process ----------------------------------------------------------


def rotated(names: list[str], rep: int) -> list[str]:
    """``names`` starting one later each repetition, so that what the previous transfer left
    behind (the combiner flushing an upload, a file being deleted) hits each alike."""
    shift = rep % len(names)
    return names[shift:] + names[:shift]


def print_rates(size_bytes: int, seconds: dict[str, list[float]]) -> None:
    """One line per name: median MB/s and [min–max] over its transfers of ``size_bytes``."""
    width = max(len(name) for name in seconds)
    for name, values in seconds.items():
        rates = sorted(size_bytes / MB / value for value in values)
        spread = f"[{rates[0]:.0f}–{rates[-1]:.0f}]"
        print(f"  {name:{width}s}  median {statistics.median(rates):5.0f} MB/s  {spread}")


def build_package(dest: Path) -> Path:
    """The timed package as ``package.tgz`` (the stock client wants a ``.tgz`` name)."""
    dest.mkdir(parents=True, exist_ok=True)
    files = {"fedn.yaml": FEDN_YAML, "train.py": TRAIN_PY, "validate.py": VALIDATE_PY}
    return write_package_archive(dest / "package.tgz", files)


def build_seed_model(dest: Path, size_mb: int) -> Path:
    """An uncompressed numpyhelper ``.npz`` of float32 arrays totalling ``size_mb`` × 10⁶ bytes."""
    total = size_mb * 1_000_000 // 4 * 4
    rng = np.random.default_rng(0)
    arrays, index, left = {}, 0, total
    while left > 0:
        nbytes = min(ARRAY_BYTES, left)
        arrays[str(index)] = rng.random(nbytes // 4, dtype=np.float32)
        left -= nbytes
        index += 1
    with open(dest, "wb") as handle:
        np.savez(handle, **arrays)
    return dest


def read_entry_times(data_dir: Path, logs: Iterable[Path] = ()) -> list[dict]:
    """The entry points' records: from the data folder, then from the ``ENTRY_TIME`` lines of
    ``logs`` (a step that ran isolated could not write into the data folder)."""
    path = data_dir / ENTRY_TIMES
    lines = path.read_text().splitlines() if path.exists() else []
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if ENTRY_TIME_MARK in line:
                lines.append(line.split(ENTRY_TIME_MARK, 1)[1])
    return [json.loads(line) for line in lines if line.strip()]


# ---- memory -----------------------------------------------------------------------------------


@dataclass
class RssPeaks:
    own: int = 0  # the client process alone
    tree: int = 0  # the client plus its children (the entry points) at the same instant
    samples: int = 0
    own_hwm: int = 0  # VmHWM of the client process (kernel's exact peak), read at stop


class RssSampler(threading.Thread):
    """Samples the RSS of one process, and of its process tree, every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(name=f"rss-{pid}", daemon=True)
        self.pid = pid
        self.interval = interval
        self.peaks = RssPeaks()
        self.idle_rss = 0
        self._halt = threading.Event()

    def mark_idle(self) -> None:
        """Remember the current RSS (the client connected and waiting) as the idle level."""
        self.idle_rss = _rss(self.pid)

    def run(self) -> None:
        try:
            process = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._halt.wait(self.interval):
            try:
                own = process.memory_info().rss
                children = process.children(recursive=True)
            except psutil.NoSuchProcess:
                return
            tree = own
            for child in children:
                with contextlib.suppress(psutil.NoSuchProcess):
                    tree += child.memory_info().rss
            self.peaks.own = max(self.peaks.own, own)
            self.peaks.tree = max(self.peaks.tree, tree)
            self.peaks.samples += 1

    def finish(self) -> RssPeaks:
        self.peaks.own_hwm = _vm_hwm(self.pid)
        self._halt.set()
        self.join(timeout=5)
        return self.peaks


def _rss(pid: int) -> int:
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.NoSuchProcess:
        return 0


def _vm_hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# ---- what the network recorded ------------------------------------------------------------------


def _parse_time(text: str) -> float:
    """Statestore and TaskRequest times are naive local-time strings (the same clock here)."""
    text = text.strip().replace("T", " ").rstrip("Z")
    if "+" in text[10:]:
        text = text[: text.rindex("+")]
    return datetime.fromisoformat(text).timestamp()


@dataclass
class TaskSpan:
    kind: str  # "train" | "validate"
    model_id: str
    requested: float  # TaskRequest.timestamp (combiner clock)
    done: float  # committed_at of the client's "... completed." status
    meta: dict = field(default_factory=dict)  # ModelUpdate.meta for train tasks

    @property
    def seconds(self) -> float:
        return self.done - self.requested


def task_spans(statestore: Path) -> list[TaskSpan]:
    """Train and validate tasks in order, from the client's statuses in FEDn's statestore.

    Both clients send "Received request from combiner." with the TaskRequest attached (its
    timestamp is when the combiner made the request) and "Model update completed." /
    "Model validation completed." after SendModelUpdate / SendModelValidation, with the message
    attached (ModelUpdate.meta carries fetch_model, upload_model, exec_training).
    """
    db = sqlite3.connect(f"file:{statestore}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT status, committed_at, data FROM statuses ORDER BY committed_at").fetchall()
    finally:
        db.close()
    pending: dict[str, list[tuple[str, float]]] = {"train": [], "validate": []}
    spans: list[TaskSpan] = []
    for status, committed_at, data in rows:
        if status == "Received request from combiner.":
            request = json.loads(data)
            kind = {"MODEL_UPDATE": "train", "MODEL_VALIDATION": "validate"}.get(request.get("type"))
            if kind:
                pending[kind].append((request.get("modelId", ""), _parse_time(request["timestamp"])))
        elif status in ("Model update completed.", "Model validation completed."):
            kind = "train" if status.startswith("Model update") else "validate"
            message = json.loads(data)
            model_id, requested = pending[kind].pop(0)
            meta = json.loads(message.get("meta") or "{}") if kind == "train" else {}
            spans.append(TaskSpan(kind, model_id, requested, _parse_time(str(committed_at)), meta))
    return spans


def fedgui_task_timings(history_db: Path) -> list[dict]:
    """fedgui's own record of each task: kind, model id, status, phase timings and its start and
    end (wall clock), in order. The first look (fedgui validating the first global model on the
    person's data before round 1's training, inside that train task) is kind "preview"."""
    if not history_db.exists():
        return []
    db = sqlite3.connect(f"file:{history_db}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT kind, model_id, status, timings_json, started_at, finished_at"
            " FROM tasks ORDER BY started_at"
        ).fetchall()
    finally:
        db.close()
    return [
        {
            "kind": kind,
            "model_id": model_id,
            "status": status,
            "timings": json.loads(timings or "{}"),
            "started": started,
            "finished": finished,
        }
        for kind, model_id, status, timings, started, finished in rows
    ]


def first_looks(history_db: Path) -> list[tuple[float, float]]:
    """(start, end) of each first look fedgui ran: a feature the stock client lacks, counted
    apart from the round's overhead. Its validate entry point's record falls inside."""
    return [
        (task["started"], task["finished"])
        for task in fedgui_task_timings(history_db)
        if task["kind"] == "preview" and task["finished"]
    ]


def split_first_looks(entry: list[dict], looks: list[tuple[float, float]]) -> tuple[list[dict], list[dict]]:
    """The entry points' records without those of the first looks, and those."""

    def in_look(record: dict) -> bool:
        return any(start <= record["start"] <= end for start, end in looks)

    return [e for e in entry if not in_look(e)], [e for e in entry if in_look(e)]

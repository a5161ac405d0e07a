"""Benchmark: model download and upload throughput of the stock FEDn client, fedgui and a bare
gRPC loop, interleaved on fresh FEDn 0.33 networks, with per-round overhead and peak RSS.

Run: .venv/bin/python tests/bench/transfer_throughput.py [--sizes 100,1000] [--reps 3] [--rounds 2]

Each repetition runs, for each size, stock → fedgui → bare, each on a fresh network (a stopped
client stays "active" on the combiner for a while), so load drifting on a shared machine hits
all three alike; each repetition starts one client later in that order (rep 2: fedgui → bare →
stock), so that none always follows the same other. The table gives the median over every
sample and the spread (min–max).

* stock: ``fedn client start``, a 1-client session of ``--rounds`` rounds (validation on). Its
  transfers are timed around FednClient.get_model_from_combiner / send_model_to_combiner (the
  gRPC call into memory, what its own meta reports) by ``fedn_bench_site/sitecustomize.py``.
* fedgui: ``fedgui run --approve``, the same session; its own timings per task from its history
  (download into the model cache on disk; upload from the trained model's file). A train task
  on the model it validated a round earlier is a cache hit: no download, not counted.
* bare: ``_bare_transfer.py`` — the same Upload and Download RPCs against the same kind of
  combiner, 1 MiB frames, each frame's data written to a file and nothing else.

Downloads are split into the first of a session (round 1's training, on the seed model), later
training downloads and validation downloads (which run while the combiner stages the next round).
Overhead/round and peak RSS come from ``round_overhead.py``'s measurement of the same sessions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from tests.bench import _bench_support as support  # noqa: E402
from tests.bench import round_overhead  # noqa: E402
from tests.bench.round_overhead import BenchNetwork, RunResult, run_one  # noqa: E402

BARE = Path(__file__).with_name("_bare_transfer.py")
CLIENTS = ("stock", "fedgui", "bare")  # the order each repetition runs them
COLUMNS = ("bare", "stock", "fedgui", "before")  # the order the table shows them


@dataclass
class Transfer:
    op: str  # "download" | "upload"
    kind: str  # "first" | "train" | "validate" (downloads), "upload"
    bytes: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.bytes / support.MB / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Run:
    client: str
    size_mb: int
    rep: int
    load_before: tuple[float, float, float]
    transfers: list[Transfer] = field(default_factory=list)
    overheads: list[float] = field(default_factory=list)
    first_look: list[float] = field(default_factory=list)  # fedgui: once, inside round 1; not overhead
    peak_rss: int = 0
    cache_hits: int = 0
    error: str | None = None


# ---- the three clients ---------------------------------------------------------------------------


def _stock_transfers(run_dir: Path) -> list[Transfer]:
    path = run_dir / "data" / "transfers.jsonl"
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return _label(records)


def _label(records: list[dict]) -> list[Transfer]:
    """Records in time order → Transfers; the first download of the session is "first"."""
    out, first_seen = [], False
    for record in sorted(records, key=lambda r: r["start"]):
        kind = record["kind"]
        if record["op"] == "download":
            kind = "first" if not first_seen else ("validate" if kind == "validate" else "train")
            first_seen = True
        else:
            kind = "upload"
        out.append(Transfer(record["op"], kind, int(record["bytes"]), float(record["seconds"])))
    return out


def _fedgui_transfers(run_dir: Path) -> tuple[list[Transfer], int]:
    history = run_dir / "fedgui-home" / "data" / "history.sqlite3"
    tasks = [t for t in support.fedgui_task_timings(history) if t["status"] == "ok"]
    entry = support.read_entry_times(run_dir / "data", sorted(run_dir.glob("*.log")))
    entry, _looks = support.split_first_looks(entry, support.first_looks(history))
    in_bytes = {kind: [e["in_bytes"] for e in entry if e["kind"] == kind] for kind in ("train", "validate")}
    out_bytes = [e["out_bytes"] for e in entry if e["kind"] == "train"]
    index = {"train": 0, "validate": 0}
    seen: set[str] = set()
    records, hits = [], 0
    for order, task in enumerate(tasks):
        kind, timings = task["kind"], task["timings"]
        if kind not in index or index[kind] >= len(in_bytes[kind]):
            continue
        size = in_bytes[kind][index[kind]]
        if task["model_id"] in seen and timings.get("fetch_model", 0) < 0.05:
            hits += 1
        else:
            records.append(
                {
                    "op": "download",
                    "kind": kind,
                    "start": order,
                    "seconds": timings["fetch_model"],
                    "bytes": size,
                }
            )
        seen.add(task["model_id"])
        if kind == "train" and "upload_model" in timings and index["train"] < len(out_bytes):
            records.append(
                {
                    "op": "upload",
                    "kind": "train",
                    "start": order + 0.5,
                    "seconds": timings["upload_model"],
                    "bytes": out_bytes[index["train"]],
                }
            )
        index[kind] += 1
    return _label(records), hits


def run_session_client(
    client: str, size_mb: int, rep: int, seed: Path, package: Path, args, work: Path
) -> Run:
    run = Run(client, size_mb, rep, os.getloadavg())
    rep_dir = work / f"rep{rep}-{client}"
    kind = "stock" if client == "stock" else "fedgui"
    if client == "before":
        # fedgui from another checkout (``--before``): ``fedgui run`` starts in that folder, so
        # ``python -m fedgui`` imports its code; everything else is the same.
        round_overhead.ROOT = args.before
    try:
        result: RunResult = run_one(kind, size_mb, seed, package, args, rep_dir)
    finally:
        round_overhead.ROOT = ROOT
    run_dir = rep_dir / f"{kind}-{size_mb}"
    run.error = result.error
    run.overheads = result.overheads()
    if result.first_look_seconds:
        run.first_look = [result.first_look_seconds]
    run.peak_rss = result.peak_rss
    if kind == "stock":
        run.transfers = _stock_transfers(run_dir)
    else:
        run.transfers, run.cache_hits = _fedgui_transfers(run_dir)
    if not args.keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return run


def run_bare(size_mb: int, rep: int, seed: Path, args, work: Path) -> Run:
    """The bare loop: upload the model once, then download it as often as a session would."""
    run = Run("bare", size_mb, rep, os.getloadavg())
    run_dir = work / f"rep{rep}" / f"bare-{size_mb}"
    run_dir.mkdir(parents=True)
    network = BenchNetwork(run_dir=run_dir / "net").start()
    out_json = run_dir / "bare.json"
    try:
        proc = subprocess.Popen(
            [
                *(sys.executable, str(BARE), network.grpc_address, str(seed)),
                *(str(2 * args.rounds), str(out_json), str(args.rounds)),
            ]
        )
        sampler = support.RssSampler(proc.pid)
        sampler.start()
        code = proc.wait(timeout=args.round_timeout * args.rounds)
        run.peak_rss = sampler.finish().own
        if code != 0:
            raise RuntimeError(f"bare loop exited with {code}")
        records = json.loads(out_json.read_text())
        downloads = [r for r in records if r["op"] == "download"]
        for record in downloads[1:]:
            record["kind"] = "train"  # "later"; the same figure stands for train and validate
        run.transfers = _label(records)
    except Exception as exc:
        run.error = f"{type(exc).__name__}: {str(exc)[:500]}"
    finally:
        network.stop()
    if not args.keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return run


# ---- report ----------------------------------------------------------------------------------------


def _spread(values: list[float], spec: str) -> str:
    if not values:
        return "—"
    median = format(statistics.median(values), spec)
    if len(values) == 1:
        return f"{median} (n=1)"
    return f"{median} [{format(min(values), spec)}–{format(max(values), spec)}] n={len(values)}"


def _ratio(ours: list[float], theirs: list[float]) -> str:
    if not ours or not theirs or not statistics.median(theirs):
        return "—"
    return f"{statistics.median(ours) / statistics.median(theirs):.2f}×"


def _overhead_split(run: Run) -> tuple[float, float] | None:
    """(seconds moving models, seconds of the rest) per round of ``run``. All of a session's
    transfers fall inside its rounds' tasks; the rest is the client's own doing."""
    if not run.overheads or not run.transfers:
        return None
    rounds = len(run.overheads)
    transfers = sum(t.seconds for t in run.transfers) / rounds
    return transfers, sum(run.overheads) / rounds - transfers


def table(runs: list[Run]) -> str:
    columns = [c for c in COLUMNS if any(r.client == c for r in runs)]
    names = {"bare": "bare gRPC loop", "stock": "stock client", "fedgui": "fedgui", "before": "fedgui before"}
    lines = [
        f"| size | figure | {' | '.join(names[c] for c in columns)} | fedgui/stock | fedgui/bare |",
        "|---|---|" + "---:|" * (len(columns) + 2),
    ]
    for size in sorted({r.size_mb for r in runs}):
        by_client = {c: [r for r in runs if r.size_mb == size and r.client == c] for c in COLUMNS}

        def rates(client: str, op: str, kinds: tuple[str, ...], by_client=by_client) -> list[float]:
            return [t.rate for r in by_client[client] for t in r.transfers if t.op == op and t.kind in kinds]

        def splits(client: str, by_client=by_client) -> list[tuple[float, float]]:
            return [split for r in by_client[client] if (split := _overhead_split(r)) is not None]

        rows = [
            ("download MB/s, first", {c: rates(c, "download", ("first",)) for c in COLUMNS}, ".0f"),
            (
                "download MB/s, later train",
                {
                    "bare": rates("bare", "download", ("train",)),
                    **{c: rates(c, "download", ("train",)) for c in ("stock", "fedgui", "before")},
                },
                ".0f",
            ),
            (
                "download MB/s, validate",
                {
                    "bare": rates("bare", "download", ("train",)),
                    **{c: rates(c, "download", ("validate",)) for c in ("stock", "fedgui", "before")},
                },
                ".0f",
            ),
            (
                "download MB/s, all",
                {c: rates(c, "download", ("first", "train", "validate")) for c in COLUMNS},
                ".0f",
            ),
            ("upload MB/s", {c: rates(c, "upload", ("upload",)) for c in COLUMNS}, ".0f"),
            (
                "overhead/round (s)",
                {c: [o for r in by_client[c] for o in r.overheads] for c in ("stock", "fedgui", "before")},
                ".2f",
            ),
            (
                "  of which transfers (s)",
                {c: [split[0] for split in splits(c)] for c in ("stock", "fedgui", "before")},
                ".2f",
            ),
            (
                "  of which the rest (s)",
                {c: [split[1] for split in splits(c)] for c in ("stock", "fedgui", "before")},
                ".2f",
            ),
            (
                "first look before round 1 (s)",
                {c: [o for r in by_client[c] for o in r.first_look] for c in ("fedgui", "before")},
                ".2f",
            ),
            (
                "peak RSS client (MB)",
                {c: [r.peak_rss / support.MB for r in by_client[c] if r.peak_rss] for c in COLUMNS},
                ".0f",
            ),
        ]
        for name, values, spec in rows:
            cells = " | ".join(_spread(values.get(c, []), spec) for c in columns)
            ours = values.get("fedgui", [])
            lines.append(
                f"| {size} MB | {name} | {cells} | {_ratio(ours, values.get('stock', []))} "
                f"| {_ratio(ours, values.get('bare', []))} |"
            )
        hits = [
            str(sum(r.cache_hits for r in by_client[c])) if c in ("fedgui", "before") else "" for c in columns
        ]
        lines.append(f"| {size} MB | fedgui cache hits (no download) | {' | '.join(hits)} | | |")
    return "\n".join(lines)


def _load_run(item: dict) -> Run:
    item = dict(item)
    item["transfers"] = [Transfer(**t) for t in item["transfers"]]
    item["load_before"] = tuple(item["load_before"])
    return Run(**item)


def details(run: Run) -> str:
    load = " ".join(f"{x:.2f}" for x in run.load_before)
    text = f"{run.client} {run.size_mb} MB rep {run.rep} (load before {load})"
    if run.error:
        text += f"\n  ERROR: {run.error}"
    transfers = ", ".join(
        f"{t.op[:2]}/{t.kind} {t.bytes / support.MB:.0f} MB {t.seconds:.2f} s" for t in run.transfers
    )
    overheads = ", ".join(f"{o:.2f}" for o in run.overheads)
    look = f" (first look, not counted: {run.first_look[0]:.2f} s)" if run.first_look else ""
    return (
        f"{text}\n  transfers: {transfers}\n  overhead/round: {overheads or '—'} s{look}; "
        f"peak RSS {run.peak_rss / support.MB:.0f} MB; cache hits {run.cache_hits}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    support.add_session_arguments(parser, sizes="100,1000", clients=",".join(CLIENTS))
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each size (stock, fedgui, bare)")
    parser.add_argument(
        "--before", type=Path, help="another checkout of fedgui, run as client 'before' (e.g. a git worktree)"
    )
    parser.add_argument(
        "--combine",
        type=Path,
        nargs="+",
        help="print one table from the --json files of earlier runs, run nothing",
    )
    args = parser.parse_args()
    if args.combine:
        print(table([_load_run(item) for path in args.combine for item in json.loads(path.read_text())]))
        return 0
    clients = support.listed(args.clients)
    if "before" in clients and args.before is None:
        raise SystemExit("client 'before' needs --before PATH")
    runs: list[Run] = []
    started = time.monotonic()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    with support.workspace(args, "fedgui-transfer-bench-") as (work, package):
        try:
            for size, seed in support.seed_models([int(s) for s in support.listed(args.sizes)], work):
                for rep in range(1, args.reps + 1):
                    # Each repetition starts one client later: none always runs right after the
                    # same other (a stopping network, a page cache full of its models).
                    shift = (rep - 1) % len(clients)
                    for client in clients[shift:] + clients[:shift]:
                        print(f"--- {client}, {size} MB, rep {rep}/{args.reps}", flush=True)
                        if client == "bare":
                            run = run_bare(size, rep, seed, args, work)
                        else:
                            run = run_session_client(client, size, rep, seed, package, args, work)
                        runs.append(run)
                        print(details(run), flush=True)
        finally:
            if args.json:
                args.json.write_text(json.dumps([asdict(r) for r in runs], indent=1))
            print()  # also when interrupted: the table of what ran
            print(
                f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
                f"({os.cpu_count()} CPUs); {(time.monotonic() - started) / 60:.0f} min; "
                f"rounds/session {args.rounds}; median [min–max] n=samples"
            )
            print(table(runs), flush=True)
    return 0 if all(r.error is None for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: per-round client overhead, transfer throughput and peak RSS, stock FEDn client vs
fedgui headless, on a real FEDn 0.33 network, for numpyhelper models of several sizes.

Run: /work/main/.venv/bin/python tests/bench/round_overhead.py [--sizes 10,100,1000] [--rounds 2]

For each size (MB = 10⁶ bytes of float32 arrays in an uncompressed .npz) it runs the same
1-client session (``--rounds`` rounds, validation on) twice: once with ``fedn client start``,
once with ``fedgui run --approve`` as a separate process, each on a fresh network with the same
settings (a stopped client would otherwise stay "active" on the combiner for a while and hold
the next round up to its timeout). Both clients run the entry points with the fedn venv's
Python, so the scripts cost the same.

Figures, per client:
* overhead/round: for each round, (train task span + validate task span) minus the entry
  points' own times. A task span runs from the TaskRequest's timestamp (combiner) to the commit
  of the client's "... completed." status, which both clients send right after
  SendModelUpdate / SendModelValidation; both ends are read from FEDn's statestore. A span
  does not count time spent queued behind the previous task (the next round's train request
  arrives while the client still validates), so the spans add up to the time the client had
  work outstanding. The entry points' own times are measured inside the scripts (first line
  to last). fedgui's first look (it validates the first global model on the person's data
  before round 1's training, inside that train task; the stock client has no such step) is
  taken out of round 1 whole, step start included, and shown on a line of its own.
* download / upload MB/s: model bytes (as the entry points saw them) over ``fetch_model`` /
  ``upload_model`` from the ModelUpdate meta in the statestore (the same keys for both
  clients). fedgui's train in round ≥ 2 hits its model cache (the model came with the previous
  validation) and is no download; its validation downloads are shown apart (see _collect).
* peak RSS: the client process alone, sampled every 50 ms (and the kernel's VmHWM), and the
  client plus the entry point subprocesses, for information.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from fedgui.core.package.checksum import sha256_file  # noqa: E402
from tests.bench._bench_support import (  # noqa: E402
    MB,
    RssSampler,
    add_session_arguments,
    fedgui_task_timings,
    first_looks,
    listed,
    read_entry_times,
    seed_models,
    split_first_looks,
    task_spans,
    workspace,
)
from tests.fednet.network import SITE_DIR, FednNetwork  # noqa: E402


@dataclass
class RunResult:
    client: str  # "stock" | "fedgui"
    size_mb: int
    model_bytes: int
    rounds: list[dict] = field(default_factory=list)  # per round: spans, entry point times, meta
    downloads: list[tuple[int, float]] = field(default_factory=list)  # (bytes, seconds) per real download
    uploads: list[tuple[int, float]] = field(default_factory=list)
    validate_downloads: list[tuple[int, float]] = field(default_factory=list)  # fedgui only
    models_downloaded: int = 0  # model transfers from the combiner in the whole session
    idle_rss: int = 0
    peak_rss: int = 0
    peak_rss_hwm: int = 0
    peak_rss_tree: int = 0
    session_seconds: float = 0.0
    #: fedgui's first look (validating the first global model before round 1's training): a
    #: feature the stock client lacks, so not in the overhead; its own line in the table.
    first_look_seconds: float = 0.0
    error: str | None = None

    def overheads(self) -> list[float]:
        return [r["overhead"] for r in self.rounds]

    @staticmethod
    def throughput(transfers: list[tuple[int, float]]) -> float | None:
        """MB/s over all transfers together (total bytes / total seconds)."""
        seconds = sum(s for _, s in transfers)
        return sum(b for b, _ in transfers) / MB / seconds if seconds > 0 else None


BENCH_SITE = Path(__file__).with_name("fedn_bench_site")
GUNICORN_TIMEOUT_S = 1800


class BenchNetwork(FednNetwork):
    """The harness's network, with a controller that may take minutes over one request.

    The controller re-saves an uploaded seed model with np.savez_compressed inside the request;
    for 1 GB that takes longer than gunicorn's default 30 s worker timeout, which kills the
    worker (500). ``fedn_bench_site/sitecustomize.py`` loads the harness's own sitecustomize and
    raises the timeout.
    """

    def _service_env(self) -> dict[str, str]:
        env = super()._service_env()
        env["PYTHONPATH"] = str(BENCH_SITE)
        env["FEDNET_HARNESS_SITECUSTOMIZE"] = str(SITE_DIR / "sitecustomize.py")
        env["FEDNET_GUNICORN_TIMEOUT"] = str(GUNICORN_TIMEOUT_S)
        return env


# ---- one client, one session ---------------------------------------------------------------------


def upload_seed(network: FednNetwork, path: Path) -> str:
    """Like FednNetwork.set_seed_model, with a timeout that fits a 1 GB upload."""
    network.set_helper("numpyhelper")
    with open(path, "rb") as handle:
        response = requests.post(
            f"{network.api_url}/api/v1/models/",
            files={"file": (path.name, handle)},
            data={"helper": "numpyhelper"},
            headers=network.admin_headers(),
            timeout=1800,
        )
    if response.status_code not in (200, 201):
        raise RuntimeError(f"seed upload -> {response.status_code} {response.text[:300]}")
    return network.latest_model()["model_id"]


class FedguiProcess:
    """``fedgui run`` as its own process; its console output goes to a file."""

    def __init__(
        self, config: Path, data: Path, home: Path, python: Path, log_path: Path, package: Path
    ) -> None:
        env = {**os.environ, "FEDGUI_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        argv = [sys.executable, "-m", "fedgui", "run", "--config", str(config), "--data", str(data)]
        # --approve takes the package's SHA-256: only that exact package is approved.
        argv += ["--approve", sha256_file(package), "--python", str(python), "--quiet-progress"]
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while "Waiting for work" not in self.log_path.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"fedgui not ready (exit {self.proc.poll()}):\n{self.tail()}")
            time.sleep(0.2)

    def tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


def run_one(client: str, size_mb: int, seed: Path, package: Path, args, work: Path) -> RunResult:
    run_dir = work / f"{client}-{size_mb}"
    data = run_dir / "data"
    data.mkdir(parents=True)
    network = BenchNetwork(run_dir=run_dir / "net").start()
    result = RunResult(client, size_mb, seed.stat().st_size)
    process = sampler = None
    try:
        network.upload_package(package)
        upload_seed(network, seed)
        if client == "stock":
            service = network.stock_client("bench", extra_env={"FEDN_DATA_PATH": str(data)})
            process = service
            pid = service.process.pid
        else:
            config = run_dir / "client.yaml"
            config.write_text(f"api_url: http://127.0.0.1\napi_port: {network.api_port}\nname: bench\n")
            process = FedguiProcess(
                config,
                data,
                run_dir / "fedgui-home",
                network.envs.fedn_python,
                run_dir / "fedgui.log",
                package,
            )
            pid = process.pid
        sampler = RssSampler(pid)
        sampler.start()
        if client == "fedgui":
            process.wait_ready(120)
        network.wait_clients_online(1, timeout=120)
        time.sleep(1.0)  # let start-up settle before taking the idle level
        sampler.mark_idle()
        started = time.monotonic()
        session_id = network.start_session(
            rounds=args.rounds, round_timeout=args.round_timeout, min_clients=1, validate=True
        )
        _wait_session(network, session_id, process, timeout=args.rounds * args.round_timeout + 120)
        result.session_seconds = time.monotonic() - started
        _wait_for_last_validation(run_dir / "net" / "fedn.sqlite", args.rounds, timeout=args.round_timeout)
    except Exception as exc:  # report what we got
        result.error = f"{type(exc).__name__}: {str(exc)[:800]}"
    finally:
        if sampler is not None:
            peaks = sampler.finish()
            result.idle_rss, result.peak_rss = sampler.idle_rss, peaks.own
            result.peak_rss_hwm, result.peak_rss_tree = peaks.own_hwm, peaks.tree
        if process is not None:
            process.stop()
        network.stop()
    _collect(result, run_dir)
    return result


def _client_running(process) -> bool:
    return process.running()


def _wait_session(network: FednNetwork, session_id: str, process, timeout: float) -> None:
    """Wait for the session; give up at once if the client process died (the stock client
    exits when an entry point fails)."""
    deadline = time.monotonic() + timeout
    while str(network.session(session_id).get("status", "")).lower() != "finished":
        if not _client_running(process):
            raise RuntimeError("the client process exited during the session; see its log")
        if time.monotonic() > deadline:
            raise RuntimeError(f"session not finished after {timeout:.0f} s")
        time.sleep(0.5)


def _wait_for_last_validation(statestore: Path, rounds: int, timeout: float) -> None:
    """The session is 'finished' once the last round is aggregated; its validation comes after."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(span.kind == "validate" for span in task_spans(statestore)) >= rounds:
            return
        time.sleep(0.5)
    raise RuntimeError(f"the last validation did not arrive within {timeout:.0f} s")


def _busy_seconds(spans: list) -> dict[int, float]:
    """Each task's span, less the part spent queued behind the task before it.

    The combiner sends round r+1's training request right after round r's validation request,
    so it waits while the client validates; counting that wait twice would inflate the rounds.
    Summed, these are the time the client had work outstanding (the union of the spans).
    """
    busy: dict[int, float] = {}
    previous_done = float("-inf")
    for span in sorted(spans, key=lambda s: s.requested):
        start = max(span.requested, previous_done)
        busy[id(span)] = max(0.0, span.done - start)
        previous_done = max(previous_done, span.done)
    return busy


def _collect(result: RunResult, run_dir: Path) -> None:
    statestore = run_dir / "net" / "fedn.sqlite"
    spans = task_spans(statestore) if statestore.exists() else []
    history = run_dir / "fedgui-home" / "data" / "history.sqlite3"
    looks = first_looks(history) if result.client == "fedgui" else []
    entry = read_entry_times(run_dir / "data", sorted(run_dir.glob("*.log")))
    # fedgui's first look runs the validate entry point inside round 1's train task: its record
    # is not round 1's validation, and the whole look (step start included) is its own line.
    entry, _look_records = split_first_looks(entry, looks)
    trains = [s for s in spans if s.kind == "train"]
    validations = [s for s in spans if s.kind == "validate"]
    train_times = [e for e in entry if e["kind"] == "train"]
    validate_times = [e for e in entry if e["kind"] == "validate"]
    busy = _busy_seconds(spans)
    for index, (train, validation) in enumerate(zip(trains, validations, strict=False)):
        if index >= len(train_times) or index >= len(validate_times):
            break
        own = train_times[index]["seconds"] + validate_times[index]["seconds"]
        train_busy, validate_busy = busy[id(train)], busy[id(validation)]
        look = sum(end - start for start, end in looks if train.requested <= start <= train.done)
        result.first_look_seconds += look
        result.rounds.append(
            {
                "round": index + 1,
                "train_span": train_busy,
                "validate_span": validate_busy,
                "train_script": train_times[index]["seconds"],
                "validate_script": validate_times[index]["seconds"],
                "first_look": look,
                "overhead": train_busy + validate_busy - own - look,
                "meta": {k: v for k, v in train.meta.items() if isinstance(v, int | float)},
            }
        )
    # Model sizes on the wire: the entry points record the size of their input and output. (The
    # controller re-saves the seed, and the combiner saves every global model, compressed, so a
    # global model is not exactly the size of the seed.)
    # The compared download figure is the train tasks' fetch_model from the statestore, for both
    # clients; fedgui's cache hits (a train on the model it validated a round earlier) are no
    # downloads and are left out. fedgui's validation downloads (from its history) are shown
    # apart: stock does not report its own, and they run while the combiner stages the next
    # round's model (a 1 GB S3 read on the same 2 CPUs), so they are slower for either client.
    seen: set[str] = set()
    for span in sorted(spans, key=lambda s: s.requested):
        if span.kind == "train":
            times = train_times[trains.index(span)] if trains.index(span) < len(train_times) else None
            real = result.client == "stock" or span.model_id not in seen
            if times and real and "fetch_model" in span.meta:
                result.downloads.append((times["in_bytes"], span.meta["fetch_model"]))
        seen.add(span.model_id)
    result.models_downloaded = len(spans) if result.client == "stock" else len(seen)
    if result.client == "fedgui":
        tasks = [t for t in fedgui_task_timings(history) if t["status"] == "ok" and t["kind"] == "validate"]
        for task, times in zip(tasks, validate_times, strict=False):
            if task["timings"].get("fetch_model", 0) > 0.05:  # not a cache hit
                result.validate_downloads.append((times["in_bytes"], task["timings"]["fetch_model"]))
    for train, times in zip(trains, train_times, strict=False):
        if "upload_model" in train.meta:
            result.uploads.append((times["out_bytes"], train.meta["upload_model"]))


# ---- report ----------------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "—" if not value else format(value, spec)


def _ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or not theirs:
        return "—"
    return f"{ours / theirs:.2f}×"


def table(results: list[RunResult]) -> str:
    by_key = {(r.client, r.size_mb): r for r in results}
    header = "| size | figure | stock | fedgui | fedgui/stock | goal |"
    lines = [header, "|---|---|---:|---:|---:|---|"]
    for size in sorted({r.size_mb for r in results}):
        stock, ours = by_key.get(("stock", size)), by_key.get(("fedgui", size))
        if stock is None or ours is None:
            continue

        def median(values: list[float]) -> float | None:
            return statistics.median(values) if values else None

        rows = [
            ("overhead/round (s)", median(stock.overheads()), median(ours.overheads()), ".2f", "≤ 0.4×"),
            ("  first look, before round 1 (s)", None, ours.first_look_seconds, ".2f", "not overhead"),
            (
                "download (MB/s), train tasks",
                stock.throughput(stock.downloads),
                ours.throughput(ours.downloads),
                ".0f",
                "≥ 1.0×",
            ),
            (
                "  validate-task download (MB/s)",
                stock.throughput(stock.validate_downloads),
                ours.throughput(ours.validate_downloads),
                ".0f",
                "",
            ),
            (
                "  models downloaded per round",
                stock.models_downloaded / max(1, len(stock.rounds)),
                ours.models_downloaded / max(1, len(ours.rounds)),
                ".1f",
                "",
            ),
            (
                "upload (MB/s)",
                stock.throughput(stock.uploads),
                ours.throughput(ours.uploads),
                ".0f",
                "≥ 1.0×",
            ),
            ("peak RSS client (MB)", stock.peak_rss / MB, ours.peak_rss / MB, ".0f", "flat, ≤ 0.25× at 1 GB"),
            ("  idle RSS client (MB)", stock.idle_rss / MB, ours.idle_rss / MB, ".0f", ""),
            (
                "  peak RSS incl. entry points (MB)",
                stock.peak_rss_tree / MB,
                ours.peak_rss_tree / MB,
                ".0f",
                "",
            ),
            (
                "  train+validate scripts/round (s)",
                median([r["train_script"] + r["validate_script"] for r in stock.rounds]),
                median([r["train_script"] + r["validate_script"] for r in ours.rounds]),
                ".2f",
                "",
            ),
        ]
        for name, theirs, mine, spec, goal in rows:
            figures = f"{_fmt(theirs, spec)} | {_fmt(mine, spec)} | {_ratio(mine, theirs)}"
            lines.append(f"| {size} MB | {name} | {figures} | {goal} |")
    return "\n".join(lines)


def details(result: RunResult) -> str:
    out = [
        f"{result.client} {result.size_mb} MB: session {result.session_seconds:.1f} s, "
        f"idle RSS {result.idle_rss / MB:.0f} MB, peak {result.peak_rss / MB:.0f} MB "
        f"(VmHWM {result.peak_rss_hwm / MB:.0f} MB), with entry points {result.peak_rss_tree / MB:.0f} MB"
    ]
    if result.error:
        out.append(f"  ERROR: {result.error}")
    for r in result.rounds:
        meta = r["meta"]
        look = f", first look {r['first_look']:.2f} s" if r.get("first_look") else ""
        out.append(
            f"  round {r['round']}: train span {r['train_span']:.2f} s (script {r['train_script']:.2f}), "
            f"validate span {r['validate_span']:.2f} s (script {r['validate_script']:.2f})"
            f"{look} -> overhead {r['overhead']:.2f} s; meta fetch {meta.get('fetch_model', 0):.2f} "
            f"exec {meta.get('exec_training', 0):.2f} upload {meta.get('upload_model', 0):.2f}"
        )
    out.append(
        "  downloads: "
        + ", ".join(f"{b / MB:.0f} MB in {s:.2f} s" for b, s in result.downloads)
        + "; uploads: "
        + ", ".join(f"{b / MB:.0f} MB in {s:.2f} s" for b, s in result.uploads)
        + "; validate-task downloads: "
        + ", ".join(f"{b / MB:.0f} MB in {s:.2f} s" for b, s in result.validate_downloads)
    )
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_session_arguments(parser, sizes="10,100,1000", clients="stock,fedgui")
    args = parser.parse_args()
    results: list[RunResult] = []
    with workspace(args, "fedgui-round-bench-") as (work, package):
        try:
            for size, seed in seed_models([int(s) for s in listed(args.sizes)], work):
                for client in listed(args.clients):
                    print(f"--- {client}, {size} MB, {args.rounds} rounds", flush=True)
                    result = run_one(client, size, seed, package, args, work)
                    results.append(result)
                    print(details(result), flush=True)
                    if not args.keep:
                        shutil.rmtree(work / f"{client}-{size}", ignore_errors=True)
        finally:
            if args.json:
                args.json.write_text(json.dumps([asdict(r) for r in results], indent=1))
    print()
    print(table(results))
    return 0 if all(r.error is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

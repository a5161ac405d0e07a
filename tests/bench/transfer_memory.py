"""Benchmark: peak RSS of one process that downloads, checks and uploads a big model with
fedgui's own transfer functions, against a real FEDn 0.33 combiner.

Run: .venv/bin/python tests/bench/transfer_memory.py [--size 1000] [--cycles 3]
         [--variants asis+opt:grpc.http2.bdp_probe=1,tuned] [--repeat 1] [--phases download,check,upload]
         [--latency-ms 25]

``--latency-ms`` puts a proxy that delays each direction (``_latency_proxy.py``) between the worker
and the combiner: what a receive window too small for a far-away network costs shows there, never
on loopback.

One fresh network; the seed model is put on the combiner once with a bare Upload. Then, for each
variant (alternated ``--repeat`` times), a fresh worker process (this file with ``--worker``)
runs ``--cycles`` cycles of: ``download_model`` (into a model-cache-like folder, like a task),
``check_numpy_model`` on the downloaded file (what fedgui does to every trained model before it
is sent), ``upload_model`` of the seed. The parent samples the worker's RSS every 20 ms; the
worker records, per phase, the kernel's exact peak (VmHWM, reset before each phase through
/proc/self/clear_refs), the RSS left after the phase, and glibc's view of its heap (mallinfo2:
arenas, bytes in use, bytes free but kept).

Variants:
* ``asis``: the worker does not call fedgui's allocator setting (what fedgui did before).
* ``tuned``: the worker calls ``fedgui.core.memory_tuning.tune_allocator()`` first, as the
  entry points of ``fedgui`` and ``fedgui run`` do.
* ``opt:NAME=INT[;NAME=INT]``: these gRPC options replace fedgui's RECEIVE_WINDOW_OPTIONS
  (channel.py); ``opt:grpc.http2.bdp_probe=1`` is gRPC's default, what fedgui had before.
  So ``asis+opt:grpc.http2.bdp_probe=1`` is fedgui before the fix, ``tuned`` fedgui with it.
* ``env:NAME=VALUE[;NAME=VALUE]`` (no tuning): glibc settings by environment, e.g.
  ``env:MALLOC_ARENA_MAX=2`` or ``env:MALLOC_MMAP_THRESHOLD_=1048576``.
* ``trimSECONDS``: malloc_trim(0) every SECONDS (an experiment; it did not help).
* joined with ``+``, e.g. ``tuned+trace``: ``trace`` turns tracemalloc on (Python-level peak
  per phase; slower).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MB = 1_000_000
PHASES = ("download", "check", "upload")


# ---- the worker (one fresh process per variant) ---------------------------------------------------


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    """VmHWM := VmRSS (Linux ≥ 4.0), so the next VmHWM is the peak of the next phase alone."""
    Path("/proc/self/clear_refs").write_text("5")


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            *("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks"),
            *("uordblks", "fordblks", "keepcost"),
        )
    ]


def _heap() -> dict:
    """glibc's view: sbrk/arena bytes (arena), in use (uordblks), free but kept (fordblks),
    mmapped chunks (hblks/hblkhd) and the number of arenas (from malloc_info)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.mallinfo2.restype = _MallInfo2
    except (OSError, AttributeError, TypeError):
        return {}
    info = libc.mallinfo2()
    out = {
        "arena_mb": info.arena / MB,  # main arena only (sbrk)
        "in_use_mb": info.uordblks / MB,
        "free_kept_mb": info.fordblks / MB,
        "mmapped_mb": info.hblkhd / MB,
    }
    out.update(_malloc_info(libc))
    return out


def _malloc_info(libc: ctypes.CDLL) -> dict:
    """Arena count and total system bytes of every arena, from malloc_info's XML."""
    import re

    with tempfile.NamedTemporaryFile("r", suffix=".xml") as tmp:
        libc.fopen.restype = ctypes.c_void_p
        libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        libc.fclose.argtypes = [ctypes.c_void_p]
        libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
        handle = libc.fopen(tmp.name.encode(), b"w")
        libc.malloc_info(0, handle)
        libc.fclose(handle)
        xml = Path(tmp.name).read_text()
    heaps = re.findall(r'<heap nr="\d+">.*?<system type="current" size="(\d+)"/>', xml, re.S)
    tail = xml[xml.rfind("</heap>") :]
    total = re.search(r'<system type="current" size="(\d+)"/>', tail)
    return {
        "arenas": len(heaps),
        "heaps_system_mb": int(total.group(1)) / MB if total else None,
        "per_arena_mb": [round(int(size) / MB) for size in heaps],  # what each arena holds
    }


def _start_trimmer(interval: float) -> None:
    """Experiment: malloc_trim(0) every ``interval`` seconds (hands free heap pages back)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))

    def trim() -> None:
        while True:
            time.sleep(interval)
            libc.malloc_trim(0)

    threading.Thread(target=trim, name="trimmer", daemon=True).start()


class _HeapSampler(threading.Thread):
    """Peaks of malloc's bytes in use and of its arenas' size during a phase (mallinfo2)."""

    def __init__(self, interval: float) -> None:
        super().__init__(name="heap-sampler", daemon=True)
        self.interval = interval
        self.peak_in_use = self.peak_system = 0
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.mallinfo2.restype = _MallInfo2
        self._mallinfo2 = libc.mallinfo2
        self.start()

    def reset(self) -> None:
        self.peak_in_use = self.peak_system = 0

    def run(self) -> None:
        while True:
            time.sleep(self.interval)
            info = self._mallinfo2()
            self.peak_in_use = max(self.peak_in_use, info.uordblks + info.hblkhd)
            self.peak_system = max(self.peak_system, info.arena + info.hblkhd)


def worker(args: argparse.Namespace) -> int:
    if args.tuned:
        from fedgui.core.memory_tuning import tune_allocator

        print(f"tune_allocator() -> {tune_allocator()}", flush=True)
    if args.trace:
        import tracemalloc

        tracemalloc.start()
    if args.trim_interval:
        _start_trimmer(args.trim_interval)
    from fedgui.core.execution.numpy_model import check_numpy_model
    from fedgui.core.protocol.channel import CombinerConnection, CombinerEndpoint
    from fedgui.core.protocol.transfer import download_model, upload_model

    if args.channel_options:  # experiment: other receive-window options for fedgui's channel
        from fedgui.core.protocol import channel

        pairs = (option.partition("=") for option in args.channel_options.split(";"))
        channel.RECEIVE_WINDOW_OPTIONS = tuple((key, int(value)) for key, _, value in pairs)
    host, port = args.address.rsplit(":", 1)
    conn = CombinerConnection(CombinerEndpoint(host, int(port), False), None, "memory-bench", "memory-bench")
    if not conn.wait_until_ready(60):
        raise SystemExit("combiner not ready")
    cache = Path(args.scratch)
    heap_sampler = _HeapSampler(0.02)
    records = [{"phase": "start", "cycle": 0, "rss_mb": _status_kb("VmRSS") * 1024 / MB, **_heap()}]
    # Run each phase like the session would: on a thread of its own (the session's task thread).
    for cycle in range(1, args.cycles + 1):
        for phase in args.phases.split(","):
            dest = cache / f"model-{cycle}.model"
            if phase == "download":
                step = lambda dest=dest: download_model(conn, args.model_id, dest, durable=False)  # noqa: E731
            elif phase == "check":
                step = lambda dest=dest: check_numpy_model(dest if dest.exists() else Path(args.seed))  # noqa: E731
            elif phase == "upload":
                step = lambda: upload_model(conn, str(uuid.uuid4()), args.seed)  # noqa: E731
            else:
                raise SystemExit(f"unknown phase {phase}")
            if args.trace:
                tracemalloc.reset_peak()
            _reset_peak()
            heap_sampler.reset()
            print(f"PHASE {phase} {cycle} {time.time()}", flush=True)
            started = time.perf_counter()
            failure: list[BaseException] = []

            def run(step=step, failure=failure) -> None:
                try:
                    step()
                except BaseException as exc:  # reported below
                    failure.append(exc)

            thread = threading.Thread(target=run, name=f"task-{phase}")
            thread.start()
            thread.join()
            if failure:
                raise failure[0]
            seconds = time.perf_counter() - started
            record = {
                "phase": phase,
                "cycle": cycle,
                "seconds": seconds,
                "peak_mb": _status_kb("VmHWM") * 1024 / MB,
                "rss_mb": _status_kb("VmRSS") * 1024 / MB,
                "heap_peak_in_use_mb": heap_sampler.peak_in_use / MB,
                "heap_peak_system_mb": heap_sampler.peak_system / MB,
                **_heap(),
            }
            if args.trace:
                record["py_peak_mb"] = tracemalloc.get_traced_memory()[1] / MB
            records.append(record)
            print(json.dumps(record), flush=True)
        for stale in cache.glob("model-*.model"):
            if stale.name != f"model-{cycle}.model":
                stale.unlink()
    conn.close()
    Path(args.out).write_text(json.dumps(records))
    return 0


# ---- the parent --------------------------------------------------------------------------------


def _sample(pid: int, interval: float, samples: list[tuple[float, int]], halt: threading.Event) -> None:
    path = Path(f"/proc/{pid}/statm")
    page = os.sysconf("SC_PAGE_SIZE")
    while not halt.wait(interval):
        try:
            rss_pages = int(path.read_text().split()[1])
        except (OSError, IndexError, ValueError):
            return
        samples.append((time.time(), rss_pages * page))


def run_variant(variant: str, args, address: str, model_id: str, seed: Path, work: Path) -> dict:
    env = dict(os.environ)
    argv = [sys.executable, __file__, "--worker", "--address", address, "--model-id", model_id]
    argv += ["--seed", str(seed), "--cycles", str(args.cycles), "--phases", args.phases]
    scratch = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    out = work / f"worker-{uuid.uuid4().hex[:8]}.json"
    argv += ["--scratch", str(scratch), "--out", str(out)]
    for part in variant.split("+"):
        if part == "tuned":
            argv.append("--tuned")
        elif part.startswith("env:"):
            for pair in part[4:].split(";"):
                name, _, value = pair.partition("=")
                env[name] = value
        elif part == "trace":
            argv.append("--trace")
        elif part.startswith("opt:"):
            argv += ["--channel-options", part[4:]]
        elif part.startswith("trim"):
            argv += ["--trim-interval", part[4:]]
        elif part != "asis":
            raise SystemExit(f"unknown variant {variant}")
    samples: list[tuple[float, int]] = []
    halt = threading.Event()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)
    sampler = threading.Thread(target=_sample, args=(proc.pid, args.interval, samples, halt), daemon=True)
    sampler.start()
    marks: list[tuple[float, str]] = []
    for line in proc.stdout:
        if line.startswith("PHASE "):
            _, phase, cycle, at = line.split()
            marks.append((float(at), f"{phase}#{cycle}"))
        elif args.verbose:
            print("   ", line.rstrip(), flush=True)
    code = proc.wait()
    halt.set()
    sampler.join()
    for path in scratch.glob("*"):
        path.unlink()
    scratch.rmdir()
    if code != 0:
        raise RuntimeError(f"worker for {variant} exited with {code}")
    records = json.loads(out.read_text())
    out.unlink()
    # The sampled peak of each phase (between its mark and the next one).
    sampled: dict[str, float] = {}
    for index, (at, name) in enumerate(marks):
        end = marks[index + 1][0] if index + 1 < len(marks) else float("inf")
        values = [rss for t, rss in samples if at <= t < end]
        sampled[name] = max(values, default=0) / MB
    return {
        "variant": variant,
        "records": records,
        "sampled": sampled,
        "sampled_peak_mb": max((rss for _, rss in samples), default=0) / MB,
        "samples": len(samples),
    }


def report(result: dict, size_mb: float, args_per_arena: bool = False) -> str:
    lines = [
        f"== {result['variant']}: sampled peak {result['sampled_peak_mb']:.0f} MB "
        f"({result['samples']} samples)"
    ]
    start = result["records"][0]
    lines.append(f"   start: RSS {start['rss_mb']:.0f} MB")
    for r in result["records"][1:]:
        name = f"{r['phase']}#{r['cycle']}"
        rate = size_mb / r["seconds"] if r["phase"] != "check" else 0
        extra = f" py-peak {r['py_peak_mb']:.1f}" if "py_peak_mb" in r else ""
        lines.append(
            f"   {name:11s} {r['seconds']:5.2f} s {rate:5.0f} MB/s  peak {r['peak_mb']:4.0f} "
            f"(sampled {result['sampled'].get(name, 0):4.0f}) after {r['rss_mb']:4.0f} MB | "
            f"heap: arenas {r.get('arenas')} system {r.get('heaps_system_mb') or 0:5.0f} "
            f"in use {r.get('in_use_mb', 0):5.1f} free-kept {r.get('free_kept_mb', 0):5.1f} "
            f"mmapped {r.get('mmapped_mb', 0):5.1f}{extra} | during: in use ≤ "
            f"{r.get('heap_peak_in_use_mb', 0):4.0f} arenas ≤ {r.get('heap_peak_system_mb', 0):4.0f}"
            + (f"\n{'':14s}per arena (MB): {r['per_arena_mb']}" if args_per_arena else "")
        )
    return "\n".join(lines)


def summary(results: list[dict], size_mb: float) -> str:
    lines = [
        "",
        "| variant | runs | peak RSS MB, median [min–max] | "
        + " | ".join(f"{p} MB/s" for p in ("download", "upload"))
        + " |",
        "|---|---:|---:|---:|---:|",
    ]
    for variant in dict.fromkeys(r["variant"] for r in results):
        runs = [r for r in results if r["variant"] == variant]
        peaks = [max(rec.get("peak_mb", 0) for rec in r["records"]) for r in runs]
        cells = []
        for phase in ("download", "upload"):
            rates = [size_mb / rec["seconds"] for r in runs for rec in r["records"] if rec["phase"] == phase]
            cells.append(
                f"{statistics.median(rates):.0f} [{min(rates):.0f}–{max(rates):.0f}] n={len(rates)}"
                if rates
                else "—"
            )
        spread = f"{statistics.median(peaks):.0f} [{min(peaks):.0f}–{max(peaks):.0f}]"
        lines.append(f"| {variant} | {len(runs)} | {spread} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000, help="model size in MB")
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--variants", default="asis+opt:grpc.http2.bdp_probe=1,tuned")
    parser.add_argument("--repeat", type=int, default=1, help="run the variants this often, alternated")
    parser.add_argument("--interval", type=float, default=0.02, help="RSS sampling interval (s)")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--per-arena", action="store_true", help="print what each malloc arena holds")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="one-way delay added between the worker and the combiner (a far-away network)",
    )
    # worker-only
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    parser.add_argument("--model-id", help=argparse.SUPPRESS)
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--tuned", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--trim-interval", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--channel-options", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    import grpc

    from fedgui.core.protocol.generated import fedn_pb2_grpc
    from tests.bench._bare_transfer import upload as bare_upload
    from tests.bench._bench_support import build_seed_model
    from tests.bench._latency_proxy import LatencyProxy
    from tests.bench.round_overhead import BenchNetwork
    from tests.fednet.install import ensure_environments

    ensure_environments()
    work = Path(tempfile.mkdtemp(prefix="fedgui-transfer-memory-"))
    seed = build_seed_model(work / "seed.npz", args.size)
    size_mb = seed.stat().st_size / MB
    network = BenchNetwork(run_dir=work / "net").start()
    results: list[dict] = []
    try:
        channel = grpc.insecure_channel(network.grpc_address)
        model_id = str(uuid.uuid4())
        bare_upload(fedn_pb2_grpc.ModelServiceStub(channel), seed, model_id)
        channel.close()
        print(f"model {size_mb:.0f} MB on the combiner; load {os.getloadavg()[0]:.2f}", flush=True)
        variants = [v for v in args.variants.split(",") if v]
        with contextlib.ExitStack() as stack:
            address = network.grpc_address
            if args.latency_ms:
                host, port = address.rsplit(":", 1)
                address = stack.enter_context(LatencyProxy(host, int(port), args.latency_ms)).address
                print(f"through a proxy adding {args.latency_ms:g} ms each way", flush=True)
            for rep in range(args.repeat):
                for variant in variants if rep % 2 == 0 else variants[::-1]:
                    result = run_variant(variant, args, address, model_id, seed, work)
                    results.append(result)
                    print(report(result, size_mb, args.per_arena), flush=True)
    finally:
        network.stop()
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
        for path in sorted(work.rglob("*"), reverse=True):
            path.unlink() if path.is_file() or path.is_symlink() else path.rmdir()
        work.rmdir()
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(summary(results, size_mb))
    return 0


if __name__ == "__main__":
    sys.exit(main())

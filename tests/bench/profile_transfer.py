"""Profile fedgui's model download and upload against a bare gRPC loop, in one process, on one
fresh FEDn network: where does the time go?

Run: .venv/bin/python tests/bench/profile_transfer.py [--size 100] [--reps 4] [--cprofile]
     [--before CHECKOUT]

The bare loop (``_bare_transfer.py``'s functions) and fedgui's transfer functions alternate on
the same combiner and the same model, so load on the machine hits both alike. Every upload sends
a fresh copy of the model written just before it (untimed), as a client uploads the model its
entry point has just written. ``--before`` adds the transfer module of another checkout of
fedgui (e.g. ``git worktree add /tmp/before HEAD~3``) to the rotation. With
``--cprofile`` one more download and upload of fedgui run under cProfile and the top entries
are printed (for native time, run py-spy on this process instead:
``py-spy record --native -o out.svg -- .venv/bin/python tests/bench/profile_transfer.py``).
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import os
import pstats
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fedgui.core.protocol.channel import CombinerConnection, CombinerEndpoint  # noqa: E402
from fedgui.core.protocol.generated import fedn_pb2_grpc  # noqa: E402
from fedgui.core.protocol.transfer import download_model, upload_model  # noqa: E402
from fedgui.core.session.tasks import progress_emitter  # noqa: E402
from tests.bench._bare_transfer import download as bare_download  # noqa: E402
from tests.bench._bare_transfer import upload as bare_upload  # noqa: E402
from tests.bench._bench_support import MB, build_seed_model, print_rates, rotated  # noqa: E402
from tests.bench.round_overhead import BenchNetwork  # noqa: E402


class _NullBus:
    def emit(self, event) -> None:
        pass


def _load_transfer(checkout: Path):
    """``fedgui/core/protocol/transfer.py`` of another checkout, as a module of its own (its
    imports of the rest of fedgui resolve to this checkout's)."""
    path = checkout / "fedgui" / "core" / "protocol" / "transfer.py"
    spec = importlib.util.spec_from_file_location("transfer_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--before", type=Path, help="another checkout, whose transfer module joins in")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fedgui-transfer-profile-"))
    seed = build_seed_model(work / "seed.npz", args.size)
    size = seed.stat().st_size
    network = BenchNetwork(run_dir=work / "net").start()
    try:
        host, port = network.grpc_address.rsplit(":", 1)
        conn = CombinerConnection(CombinerEndpoint(host, int(port), False), None, "profile", "profile")
        conn.wait_until_ready(30)
        channel = grpc.insecure_channel(network.grpc_address)
        stub = fedn_pb2_grpc.ModelServiceStub(channel)
        model_id = str(uuid.uuid4())
        bare_upload(stub, seed, model_id)
        progress = progress_emitter(_NullBus(), "model download")
        fresh = work / "trained.npz"
        steps = {
            "bare down": lambda: bare_download(stub, model_id, work / "bare.bin"),
            "fedgui down": lambda: download_model(
                conn, model_id, work / "fedgui.bin", progress=progress, durable=False
            ),
            "bare up": lambda: bare_upload(stub, fresh, str(uuid.uuid4())),
            "fedgui up": lambda: upload_model(conn, str(uuid.uuid4()), fresh, progress=progress),
        }
        if args.before:
            before = _load_transfer(args.before)
            steps["before down"] = lambda: before.download_model(
                conn, model_id, work / "before.bin", progress=progress, durable=False
            )
            steps["before up"] = lambda: before.upload_model(
                conn, str(uuid.uuid4()), fresh, progress=progress
            )
        times: dict[str, list[float]] = {name: [] for name in steps}
        downs = [name for name in steps if name.endswith("down")]
        ups = [name for name in steps if name.endswith("up")]
        for rep in range(args.reps):
            for group in (downs, ups):
                for name in rotated(group, rep):
                    if name.endswith("up"):
                        shutil.copyfile(seed, fresh)  # just written, as a trained model is
                    started = time.perf_counter()
                    steps[name]()
                    times[name].append(time.perf_counter() - started)
        print(f"{size / MB:.0f} MB, load {os.getloadavg()[0]:.2f}")
        print_rates(size, times)
        if args.cprofile:
            profiler = cProfile.Profile()
            profiler.enable()
            download_model(conn, model_id, work / "fedgui.bin", progress=progress, durable=False)
            upload_model(conn, str(uuid.uuid4()), fresh, progress=progress)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(18)
        conn.close()
        channel.close()
    finally:
        network.stop()
        for path in sorted(work.rglob("*"), reverse=True):
            path.unlink() if path.is_file() or path.is_symlink() else path.rmdir()
        work.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())

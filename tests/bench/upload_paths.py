"""Benchmark: which part of fedgui's upload path costs against the bare loop, if any?

Run: .venv/bin/python tests/bench/upload_paths.py [--size 1000] [--reps 5]

One process, one fresh FEDn network; after one warm-up upload, five ways to upload the same
model alternate (each repetition starts one later), each sending a fresh copy written just
before it, as a trained model is:
* the bare loop's protobuf frames on a plain channel (the reference),
* the same frames on a channel with fedgui's options (keepalive, receive window),
* the same frames on fedgui's own connection (its metadata interceptor too),
* fedgui's pre-encoded frames on a plain channel,
* fedgui's ``upload_model`` as a session calls it.
If one of them is slower beyond the spread, that part of the path costs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fedgui.core.protocol.channel import (  # noqa: E402
    KEEPALIVE_OPTIONS,
    RECEIVE_WINDOW_OPTIONS,
    CombinerConnection,
    CombinerEndpoint,
)
from fedgui.core.protocol.generated import fedn_pb2 as pb  # noqa: E402
from fedgui.core.protocol.generated import fedn_pb2_grpc  # noqa: E402
from fedgui.core.protocol.transfer import CHUNK_SIZE, _UploadFrames, upload_model  # noqa: E402
from tests.bench._bare_transfer import upload as bare_upload  # noqa: E402
from tests.bench._bench_support import MB, build_seed_model, print_rates, rotated  # noqa: E402
from tests.bench.round_overhead import BenchNetwork  # noqa: E402


def upload_ways(conn: CombinerConnection, address: str, model: Path) -> dict[str, Callable[[], None]]:
    plain = grpc.insecure_channel(address)
    with_options = grpc.insecure_channel(address, options=[*KEEPALIVE_OPTIONS, *RECEIVE_WINDOW_OPTIONS])
    raw_on_plain = plain.stream_unary(
        "/fedn.ModelService/Upload",
        request_serializer=None,
        response_deserializer=pb.ModelResponse.FromString,
    )

    def fedgui_frames_on_plain() -> None:
        frames = _UploadFrames(conn, str(uuid.uuid4()), model, CHUNK_SIZE, None)
        if raw_on_plain(iter(frames)).status != pb.OK:
            raise RuntimeError("upload refused")

    def bare_on(channel: grpc.Channel) -> Callable[[], None]:
        stub = fedn_pb2_grpc.ModelServiceStub(channel)
        return lambda: bare_upload(stub, model, str(uuid.uuid4()))

    return {
        "bare frames, plain channel": bare_on(plain),
        "bare frames, fedgui's options": bare_on(with_options),
        "bare frames, fedgui's connection": bare_on(conn._channel),
        "fedgui frames, plain channel": fedgui_frames_on_plain,
        "fedgui upload_model": lambda: upload_model(conn, str(uuid.uuid4()), model),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000, help="model size in MB")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fedgui-upload-paths-"))
    try:
        seed = build_seed_model(work / "seed.npz", args.size)
        network = BenchNetwork(run_dir=work / "net").start()
        try:
            host, port = network.grpc_address.rsplit(":", 1)
            conn = CombinerConnection(CombinerEndpoint(host, int(port), False), None, "bench", "bench")
            conn.wait_until_ready(30)
            fresh = work / "trained.npz"
            ways = upload_ways(conn, network.grpc_address, fresh)
            names = list(ways)
            seconds: dict[str, list[float]] = {name: [] for name in names}
            shutil.copyfile(seed, fresh)
            ways[names[0]]()  # a warm-up upload into the fresh combiner, not counted
            for rep in range(args.reps):
                for name in rotated(names, rep):
                    shutil.copyfile(seed, fresh)  # just written, as a trained model is
                    started = time.perf_counter()
                    ways[name]()
                    seconds[name].append(time.perf_counter() - started)
            size = seed.stat().st_size
            print(f"{size / MB:.0f} MB, {args.reps} repetitions, load {os.getloadavg()[0]:.2f}")
            print_rates(size, seconds)
            conn.close()
        finally:
            network.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

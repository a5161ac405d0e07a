"""fedgui's process stays flat in memory while it downloads, checks and uploads a big model.

A 400 MB model goes through fedgui's own download_model, check_numpy_model and upload_model
three times, in a fresh process set up like fedgui's (tune_allocator first, fedgui's gRPC
channel), against a real FEDn combiner. The kernel's exact peak RSS (VmHWM) of that process
must stay within a fixed margin of its RSS once connected. Before the fix the same run grew by
80-190 MB (a dozen malloc arenas each keeping what it once held, and gRPC buffering up to
~100 MB of a download ahead of the reader); with it, by 15-35 MB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import grpc
import pytest

from fedgui.core.protocol.generated import fedn_pb2_grpc
from tests.bench._bare_transfer import upload as bare_upload
from tests.bench._bench_support import build_seed_model

ROOT = Path(__file__).resolve().parents[2]
WORKER = ROOT / "tests" / "bench" / "transfer_memory.py"
MODEL_MB = 400
CYCLES = 3
GROWTH_LIMIT_MB = 60  # measured growth with the fix: 15-35 MB; without it: 80-190 MB


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self (Linux)")
def test_memory_stays_flat_over_repeated_big_transfers(fedn_network, tmp_path):
    seed = build_seed_model(tmp_path / "model.npz", MODEL_MB)
    model_id = str(uuid.uuid4())
    channel = grpc.insecure_channel(fedn_network.grpc_address)
    try:
        bare_upload(fedn_pb2_grpc.ModelServiceStub(channel), seed, model_id)
    finally:
        channel.close()
    cache = tmp_path / "cache"
    cache.mkdir()
    out = tmp_path / "records.json"
    argv = [sys.executable, str(WORKER), "--worker", "--tuned", "--address", fedn_network.grpc_address]
    argv += ["--model-id", model_id, "--seed", str(seed), "--cycles", str(CYCLES)]
    argv += ["--phases", "download,check,upload", "--scratch", str(cache), "--out", str(out)]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    records = json.loads(out.read_text())
    start, phases = records[0], records[1:]
    assert len(phases) == 3 * CYCLES
    summary = "\n".join(
        f"{r['phase']}#{r['cycle']}: peak {r['peak_mb']:.0f} MB, "
        f"heap in use ≤ {r['heap_peak_in_use_mb']:.0f} MB, arenas {r.get('arenas')}"
        for r in phases
    )
    growth = max(r["peak_mb"] for r in phases) - start["rss_mb"]
    assert growth <= GROWTH_LIMIT_MB, f"grew {growth:.0f} MB over {start['rss_mb']:.0f} MB:\n{summary}"

"""The bare gRPC loop of ``transfer_throughput.py``: the limit this machine sets.

Run as its own process: ``python _bare_transfer.py ADDRESS MODEL_FILE DOWNLOADS OUT_JSON [UPLOADS]``.
It uploads a model UPLOADS times (default 1) with the same Upload RPC and the same frames as both
clients (1 MiB of data, the sender named), then downloads it DOWNLOADS times with the Download
RPC, writing each frame's data to a file and doing nothing else (no watchdog, no progress, no
checks, no rename). It imports grpc and the generated messages only, so it is what any Python
gRPC client of the combiner could reach.

Like for like with the clients, whose upload starts right after the entry point wrote the model
(its pages still dirty in the page cache): each upload sends a fresh copy of MODEL_FILE written
just before, not a file written long before.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import uuid
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from fedgui.core.protocol.generated import fedn_pb2 as pb  # noqa: E402
from fedgui.core.protocol.generated import fedn_pb2_grpc  # noqa: E402

CHUNK = 1024 * 1024


def upload(stub, path: Path, model_id: str) -> None:
    sender = pb.Client(role=pb.CLIENT, name="bare-loop", client_id="bare-loop")

    def frames():
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield pb.ModelRequest(sender=sender, id=model_id, data=chunk, status=pb.IN_PROGRESS)
        yield pb.ModelRequest(sender=sender, id=model_id, status=pb.OK)

    response = stub.Upload(frames())
    if response.status != pb.OK:
        raise RuntimeError(f"upload refused: {response}")


def download(stub, model_id: str, dest: Path) -> int:
    request = pb.ModelRequest(id=model_id, sender=pb.Client(role=pb.CLIENT, client_id="bare-loop"))
    size = 0
    with open(dest, "wb") as out:
        for frame in stub.Download(request):
            if frame.status == pb.IN_PROGRESS:
                size += out.write(frame.data)
            elif frame.status == pb.OK:
                return size
            else:
                raise RuntimeError(f"download failed: status {frame.status}")
    raise RuntimeError("download ended early")


def main() -> int:
    address, model_file, downloads, out_json = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    uploads = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    metadata = (("client", "bare-loop"), ("grpc-server", address.rsplit(":", 1)[0]))
    channel = grpc.insecure_channel(address)
    grpc.channel_ready_future(channel).result(timeout=60)
    stub = fedn_pb2_grpc.ModelServiceStub(channel)
    # The clients send the same metadata on every call; wrap the stub's calls to do the same.
    upload_call = stub.Upload
    download_call = stub.Download
    stub.Upload = lambda frames: upload_call(frames, metadata=metadata)
    stub.Download = lambda request: download_call(request, metadata=metadata)
    records = []
    fresh = Path(out_json).with_suffix(".upload.npz")
    for _ in range(uploads):
        model_id = str(uuid.uuid4())
        shutil.copyfile(model_file, fresh)  # written just now, as a trained model is
        started = time.time()
        upload(stub, fresh, model_id)
        records.append(
            {
                "op": "upload",
                "kind": "upload",
                "start": started,
                "seconds": time.time() - started,
                "bytes": fresh.stat().st_size,
            }
        )
        fresh.unlink()
    dest = Path(out_json).with_suffix(".download")
    for _ in range(downloads):
        started = time.time()
        size = download(stub, model_id, dest)
        records.append(
            {
                "op": "download",
                "kind": "download",
                "start": started,
                "seconds": time.time() - started,
                "bytes": size,
            }
        )
        dest.unlink()
    channel.close()
    Path(out_json).write_text(json.dumps(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())

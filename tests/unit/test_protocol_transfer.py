"""Model download/upload framing against an in-process fake combiner (§3.10)."""

from __future__ import annotations

import threading
import time

import grpc
import pytest

from fedgui.core.protocol import errors
from fedgui.core.protocol.channel import CombinerConnection, CombinerEndpoint
from fedgui.core.protocol.generated import fedn_pb2 as pb
from fedgui.core.protocol.testing import FakeCombiner
from fedgui.core.protocol.transfer import CHUNK_SIZE, _UploadFrames, download_model, upload_model

MiB = 1024 * 1024


@pytest.fixture
def fake():
    with FakeCombiner() as combiner:
        yield combiner


@pytest.fixture
def conn(fake):
    endpoint = CombinerEndpoint("127.0.0.1", fake.port, use_tls=False)
    with CombinerConnection(endpoint, None, "cid-1", "clinic") as connection:
        yield connection


def leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


# ---- download ----


def test_download_streams_to_the_destination_with_progress(fake, conn, tmp_path):
    data = bytes(range(256)) * (10 * 1024)  # 2.5 MiB -> 3 frames
    fake.models["m1"] = data
    seen = []
    dest = download_model(
        conn, "m1", tmp_path / "in" / "model.npz", progress=lambda d, t: seen.append((d, t))
    )
    assert dest.read_bytes() == data
    assert seen == [(MiB, None), (2 * MiB, None), (len(data), None)]
    assert leftovers(dest.parent) == []
    (request,) = fake.calls_to("Download")[0].requests
    assert request.id == "m1" and request.sender.client_id == "cid-1" and request.sender.role == pb.CLIENT


def test_download_replaces_an_old_file_only_when_complete(fake, conn, tmp_path):
    dest = tmp_path / "model.npz"
    dest.write_bytes(b"old")
    fake.download_frames["m"] = [pb.ModelResponse(data=b"partial", status=pb.IN_PROGRESS)]  # no OK frame
    with pytest.raises(errors.TransferFailed, match="ended before"):
        download_model(conn, "m", dest)
    assert dest.read_bytes() == b"old" and leftovers(tmp_path) == []


def test_unknown_then_failed_is_not_found(conn, tmp_path):
    with pytest.raises(errors.ModelNotFound) as err:
        download_model(conn, "nope", tmp_path / "m.npz")
    assert "nope" in str(err.value) and err.value.next_step
    assert leftovers(tmp_path) == [] and not (tmp_path / "m.npz").exists()


def test_unknown_frames_keep_reading_until_ok(fake, conn, tmp_path):
    fake.download_frames["late"] = [
        pb.ModelResponse(status=pb.UNKNOWN),
        pb.ModelResponse(status=pb.UNKNOWN),
        pb.ModelResponse(data=b"abc", status=pb.IN_PROGRESS),
        pb.ModelResponse(status=pb.OK),
    ]
    assert download_model(conn, "late", tmp_path / "m.npz").read_bytes() == b"abc"


def test_still_uploading_is_reported_as_not_ready(fake, conn, tmp_path):
    fake.download_frames["busy"] = [
        pb.ModelResponse(status=pb.IN_PROGRESS),
        pb.ModelResponse(status=pb.FAILED),
    ]
    with pytest.raises(errors.TransferFailed, match="not ready"):
        download_model(conn, "busy", tmp_path / "m.npz")


def test_failed_midway(fake, conn, tmp_path):
    fake.download_frames["bad"] = [
        pb.ModelResponse(data=b"abc", status=pb.IN_PROGRESS),
        pb.ModelResponse(status=pb.FAILED),
    ]
    with pytest.raises(errors.TransferFailed, match="could not send"):
        download_model(conn, "bad", tmp_path / "m.npz")


class _SlowCombiner(FakeCombiner):
    """Sends UNKNOWN once, then nothing, like a combiner waiting for a model that never comes."""

    def _download(self, request, context):
        self._record("/fedn.ModelService/Download", context)
        yield pb.ModelResponse(status=pb.UNKNOWN)
        while context.is_active():
            time.sleep(0.05)


def test_a_silent_stream_is_cancelled_by_the_stall_timeout(tmp_path):
    with _SlowCombiner() as slow:
        endpoint = CombinerEndpoint("127.0.0.1", slow.port, use_tls=False)
        with CombinerConnection(endpoint, None, "cid", "c") as conn:
            started = time.monotonic()
            with pytest.raises(errors.CombinerTimeout):
                download_model(conn, "m", tmp_path / "m.npz", stall_timeout=0.5)
            assert time.monotonic() - started < 5


def test_download_can_be_cancelled(tmp_path):
    with _SlowCombiner() as slow:
        endpoint = CombinerEndpoint("127.0.0.1", slow.port, use_tls=False)
        with CombinerConnection(endpoint, None, "cid", "c") as conn:
            stop = threading.Event()
            threading.Timer(0.3, stop.set).start()
            with pytest.raises(errors.CallCancelled):
                download_model(conn, "m", tmp_path / "m.npz", cancel=stop)
    assert leftovers(tmp_path) == []


def test_download_rpc_error_is_mapped(fake, conn, tmp_path):
    fake.failures["/fedn.ModelService/Download"] = (
        grpc.StatusCode.PERMISSION_DENIED,
        "Insufficient permissions",
    )
    with pytest.raises(errors.TokenLacksClientRole):
        download_model(conn, "m", tmp_path / "m.npz")


# ---- upload ----


def test_upload_frames_chunks_then_one_empty_ok(fake, conn, tmp_path):
    src = tmp_path / "trained.npz"
    data = b"\x01" * (2 * MiB + 12345)
    src.write_bytes(data)
    seen = []
    upload_model(conn, "upd-1", src, progress=lambda d, t: seen.append((d, t)))
    frames = fake.calls_to("Upload")[0].requests
    assert [len(f.data) for f in frames] == [MiB, MiB, 12345, 0]
    assert [f.status for f in frames] == [pb.IN_PROGRESS, pb.IN_PROGRESS, pb.IN_PROGRESS, pb.OK]
    assert {f.id for f in frames} == {"upd-1"}
    assert all(len(f.data) <= CHUNK_SIZE for f in frames)
    assert fake.models["upd-1"] == data
    assert seen[-1] == (len(data), len(data))


def test_upload_reads_lazily(conn, tmp_path):
    """A chunk is read only when gRPC asks for its frame, so at most one chunk is in memory:
    bytes changed on disk after the first frame show up in the second."""
    src = tmp_path / "trained.npz"
    src.write_bytes(b"\x02" * (3 * MiB))
    frames = iter(_UploadFrames(conn, "upd-2", src, CHUNK_SIZE, None))
    assert pb.ModelRequest.FromString(next(frames)).data == b"\x02" * MiB
    with src.open("r+b") as handle:
        handle.seek(MiB)
        handle.write(b"\x03" * MiB)
    assert pb.ModelRequest.FromString(next(frames)).data == b"\x03" * MiB


def test_upload_of_an_empty_or_missing_file_is_refused(conn, tmp_path):
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(errors.TransferFailed, match="empty"):
        upload_model(conn, "u", empty)
    with pytest.raises(errors.TransferFailed, match="could not be read"):
        upload_model(conn, "u", tmp_path / "missing.npz")


def test_upload_not_accepted(fake, conn, tmp_path):
    class Refusing(FakeCombiner):
        def _upload(self, requests, context):
            for _ in requests:
                pass
            return pb.ModelResponse(status=pb.FAILED, message="disk full")

    src = tmp_path / "m.npz"
    src.write_bytes(b"abc")
    with Refusing() as refusing:
        endpoint = CombinerEndpoint("127.0.0.1", refusing.port, use_tls=False)
        with (
            CombinerConnection(endpoint, None, "cid", "c") as other,
            pytest.raises(errors.TransferFailed) as err,
        ):
            upload_model(other, "u", src)
    assert "disk full" in str(err.value)


def test_upload_rpc_error_is_mapped(fake, conn, tmp_path):
    fake.failures["/fedn.ModelService/Upload"] = (grpc.StatusCode.UNAUTHENTICATED, "Invalid token")
    src = tmp_path / "m.npz"
    src.write_bytes(b"abc")
    with pytest.raises(errors.TokenRejected):
        upload_model(conn, "u", src)


def test_chunk_size_limit(conn, tmp_path):
    with pytest.raises(ValueError):
        upload_model(conn, "u", tmp_path / "x", chunk_size=4 * MiB)


def test_upload_can_be_cancelled(fake, conn, tmp_path):
    src = tmp_path / "m.npz"
    src.write_bytes(b"\x01" * (3 * MiB))
    stop = threading.Event()
    with pytest.raises(errors.CallCancelled):
        upload_model(conn, "u", src, progress=lambda done, total: stop.set(), cancel=stop)
    assert "u" not in fake.models


def test_a_failing_progress_callback_surfaces_as_itself(fake, conn, tmp_path):
    fake.models["m"] = b"abc"
    src = tmp_path / "m.npz"
    src.write_bytes(b"abc")

    def broken(done, total):
        raise KeyError("observer bug")

    with pytest.raises(KeyError):
        upload_model(conn, "u", src, progress=broken)
    with pytest.raises(KeyError):
        download_model(conn, "m", tmp_path / "d.npz", progress=broken)
    assert leftovers(tmp_path) == []


# ---- writing the download ----


class _FullDisk:
    """A file whose writes fail after the first, as on a disk that fills up. (A real full disk
    cannot be made here without privileges.)"""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data) -> int:
        if self.chunks:
            raise OSError(28, "No space left on device")
        self.chunks.append(bytes(data))
        return len(data)


def test_a_write_error_reaches_the_downloading_thread():
    from fedgui.core.protocol.transfer import _BackgroundWriter

    writer = _BackgroundWriter(_FullDisk(), depth=2)
    with pytest.raises(OSError, match="No space"):
        for _ in range(100):  # the error surfaces at a later chunk or at close; never hangs
            writer.write(b"x" * 10)
        writer.close()
    writer.close(raise_error=False)


def test_a_big_download_arrives_whole_and_in_order(fake, conn, tmp_path):
    data = bytes(range(251)) * (40 * 1024)  # ~9.8 MiB, 10 frames, not a multiple of the chunk
    fake.models["big"] = data
    assert download_model(conn, "big", tmp_path / "m.npz").read_bytes() == data

"""Model download and upload over the combiner's ModelService, in constant memory.

Models can be gigabytes: FEDn's own client holds them whole in memory (twice, during training).
Here a download streams frames into a temp file beside the destination (written on a thread of
its own, so receiving and writing overlap) and renames it when complete; an upload reads the
file lazily, one chunk per frame.

Framing (fedn-client-protocol.md §3.10):
* Download answers IN_PROGRESS frames with data, then an empty OK frame. An unknown id gives
  [UNKNOWN, FAILED]; a model still being uploaded gives [IN_PROGRESS (empty), FAILED].
* Upload sends IN_PROGRESS frames of at most 1 MiB (gRPC rejects messages over 4 MiB), then
  exactly one OK frame with no data; a final OK frame *with* data is never recognised.
"""

from __future__ import annotations

import errno
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import grpc

from fedgui.core.download_limit import DownloadTooLarge
from fedgui.core.protocol.channel import CombinerConnection
from fedgui.core.protocol.errors import (
    CallCancelled,
    CombinerTimeout,
    ModelNotFound,
    TransferFailed,
    error_from_rpc,
)
from fedgui.core.protocol.generated import fedn_pb2 as pb
from fedgui.core.protocol.wire import BadFrame, ModelRequestFrames, decode_model_response

CHUNK_SIZE = 1024 * 1024  # FEDn's chunk size; well below gRPC's 4 MiB message limit

#: progress(done_bytes, total_bytes_or_None)
ProgressCallback = Callable[[int, "int | None"], None]


class _CallWatchdog:
    """Cancels a streaming call when no frame arrived for ``stall_timeout`` seconds, or when
    ``cancel`` is set. Without it a stuck stream would block its thread forever."""

    def __init__(self, call: grpc.Call, stall_timeout: float, cancel: threading.Event | None) -> None:
        self._call = call
        self._stall_timeout = stall_timeout
        self._cancel = cancel
        self._last_frame = time.monotonic()
        self._done = threading.Event()
        self.reason: str | None = None  # "stalled" | "cancelled" once it cancelled the call
        self._thread = threading.Thread(target=self._watch, name="model-transfer-watchdog", daemon=True)
        self._thread.start()

    def frame_arrived(self) -> None:
        self._last_frame = time.monotonic()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(0.2):
            if self._cancel is not None and self._cancel.is_set():
                self.reason = "cancelled"
            elif time.monotonic() - self._last_frame > self._stall_timeout:
                self.reason = "stalled"
            else:
                continue
            self._call.cancel()
            return


def download_model(
    conn: CombinerConnection,
    model_id: str,
    dest_path: Path | str,
    progress: ProgressCallback | None = None,
    timeout: float = 20.0,
    *,
    stall_timeout: float = 120.0,
    cancel: threading.Event | None = None,
    durable: bool = True,
    max_bytes: int | None = None,
) -> Path:
    """Download model ``model_id`` from the combiner to ``dest_path`` (replaced atomically).

    ``max_bytes``: stop with DownloadTooLarge (and delete what came) once more has arrived.

    ``durable=False`` skips the fsync (0.1-1 s for a 1 GB model): for caches that are emptied
    when the app starts, where a power cut can cost nothing but a download.

    ``timeout``: how long to keep waiting while the combiner says the id is UNKNOWN (FEDn's
    client waits 20 s). ``stall_timeout``: give up when no frame arrives for that long.
    Raises :class:`ModelNotFound`, :class:`TransferFailed`, or a mapped gRPC error.
    """
    dest = Path(dest_path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    request = pb.ModelRequest(id=model_id, sender=pb.Client(role=pb.CLIENT, client_id=conn.client_id))
    what = f"downloading model {model_id}"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        call = conn.raw_model_download(request)
        watchdog = _CallWatchdog(call, stall_timeout, cancel)
        try:
            with os.fdopen(fd, "wb", buffering=0) as out:
                writer = _BackgroundWriter(out)
                try:
                    _receive_frames(call, writer, watchdog, model_id, timeout, progress, max_bytes)
                except BaseException:
                    writer.close(raise_error=False)  # the file is thrown away; report the cause
                    raise
                writer.close()  # waits for the queued chunks; raises a write error
                if durable:
                    os.fsync(out.fileno())
        except grpc.RpcError as exc:
            if watchdog.reason == "cancelled":
                raise CallCancelled(f"The download of model {model_id} was stopped.") from exc
            if watchdog.reason == "stalled":
                raise CombinerTimeout(
                    f"The download of model {model_id} stopped moving for {stall_timeout:.0f} s."
                ) from exc
            raise error_from_rpc(exc, what) from exc
        except BadFrame as exc:
            raise TransferFailed(f"The combiner sent model {model_id} in a form fedgui cannot read.") from exc
        finally:
            watchdog.stop()
            call.cancel()  # no-op after a complete stream; frees it if a progress callback raised
        os.replace(tmp, dest)
        return dest
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class _BackgroundWriter:
    """Writes the received chunks to the file on a thread of its own.

    Writing 1 MiB into the page cache takes 0.5-2 ms here; done between two frames it keeps the
    next frame from being asked for, and the combiner waits. At most ``depth`` chunks wait in
    the queue, so memory stays flat. A write error is kept and raised to the receiving thread
    at its next chunk or at ``close``; the writer keeps draining the queue so nobody blocks.
    """

    def __init__(self, out: BinaryIO, depth: int = 8) -> None:
        self._out = out
        self._queue: queue.Queue[memoryview | bytes | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="model-download-writer", daemon=True)
        self._thread.start()

    def write(self, chunk: memoryview | bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)

    def close(self, raise_error: bool = True) -> None:
        """Wait until every queued chunk is written; raise the first write error."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join()
        if raise_error and self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._write_all(chunk)
                except BaseException as exc:  # handed to the receiving thread
                    self._error = exc

    def _write_all(self, chunk: memoryview | bytes) -> None:
        # An unbuffered file may write less than asked (a signal, a nearly full disk).
        view = memoryview(chunk)
        while view:
            written = self._out.write(view)
            if not written:
                raise OSError(errno.ENOSPC, "No space left on device")
            view = view[written:]


def _receive_frames(
    call: Any,  # a grpc streaming call: iterable of ModelResponse wire bytes, with cancel()
    out: _BackgroundWriter,
    watchdog: _CallWatchdog,
    model_id: str,
    unknown_timeout: float,
    progress: ProgressCallback | None,
    max_bytes: int | None = None,
) -> None:
    done = 0
    unknown_since: float | None = None
    saw_empty_in_progress = False
    for raw in call:
        watchdog.frame_arrived()
        frame = decode_model_response(raw)
        if frame.status == pb.IN_PROGRESS:
            data = frame.data  # a view into the received bytes: no copy until the file
            if data:
                out.write(data)
                done += len(data)
                if max_bytes is not None and done > max_bytes:
                    call.cancel()
                    raise DownloadTooLarge(f"the global model {model_id}", max_bytes)
                if progress is not None:
                    progress(done, None)
            else:
                saw_empty_in_progress = True  # the model is still being uploaded to the combiner
        elif frame.status == pb.OK:
            return
        elif frame.status == pb.FAILED:
            if unknown_since is not None:
                raise _not_found(model_id)
            if saw_empty_in_progress and done == 0:
                raise TransferFailed(
                    f"Model {model_id} is not ready on the combiner yet.",
                    "fedgui will get it when the combiner asks again.",
                )
            raise TransferFailed(f"The combiner could not send model {model_id}.")
        elif frame.status == pb.UNKNOWN:
            # §3.10 client rule: UNKNOWN is not final; keep reading until the wait runs out.
            unknown_since = unknown_since or time.monotonic()
            if time.monotonic() - unknown_since >= unknown_timeout:
                call.cancel()
                raise _not_found(model_id)
    if unknown_since is not None:
        raise _not_found(model_id)
    raise TransferFailed(f"The download of model {model_id} ended before it was complete.")


def _not_found(model_id: str) -> ModelNotFound:
    return ModelNotFound(f"The combiner does not have model {model_id}.")


class _UploadFrames:
    """Yields the upload frames, reading the file one chunk at a time.

    gRPC pulls this iterator on its own thread and turns an exception in it into a bare
    CANCELLED; keeping the exception lets :func:`upload_model` report the real cause.
    """

    def __init__(
        self,
        conn: CombinerConnection,
        model_update_id: str,
        src: Path,
        chunk_size: int,
        progress: ProgressCallback | None,
        cancel: threading.Event | None = None,
    ) -> None:
        self._cancel = cancel
        sender = pb.Client(role=pb.CLIENT, name=conn.client_name, client_id=conn.client_id)
        self._frames = ModelRequestFrames(sender, model_update_id)
        self._src = src
        self._chunk_size = chunk_size
        self._progress = progress
        self.total = src.stat().st_size
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[bytes]:
        try:
            done = 0
            with self._src.open("rb") as handle:
                while chunk := handle.read(self._chunk_size):
                    if self._cancel is not None and self._cancel.is_set():
                        raise CallCancelled("The upload of the trained model was stopped.")
                    yield self._frames.chunk(chunk)
                    done += len(chunk)
                    # Counts bytes handed to gRPC, which sends them soon after; good enough for a bar.
                    if self._progress is not None:
                        self._progress(done, self.total)
            yield self._frames.last()
        except BaseException as exc:
            self.error = exc
            raise


def upload_model(
    conn: CombinerConnection,
    model_update_id: str,
    src_path: Path | str,
    progress: ProgressCallback | None = None,
    *,
    timeout: float | None = None,
    chunk_size: int = CHUNK_SIZE,
    cancel: threading.Event | None = None,
) -> None:
    """Upload ``src_path`` under ``model_update_id`` (a fresh uuid4: the combiner uses it as a
    file name). Must complete before SendModelUpdate names that id.

    Setting ``cancel`` stops before the next chunk (:class:`CallCancelled`); the combiner then
    holds an incomplete file under that id, which nothing refers to.
    """
    if not 0 < chunk_size <= CHUNK_SIZE:
        raise ValueError(f"chunk_size must be 1..{CHUNK_SIZE}")
    src = Path(src_path)
    try:
        frames = _UploadFrames(conn, model_update_id, src, chunk_size, progress, cancel)
    except OSError as exc:
        raise TransferFailed(f"The trained model file could not be read ({exc.strerror}).") from exc
    if frames.total == 0:
        raise TransferFailed(
            "The trained model file is empty, so there is nothing to send.",
            "Tell the author of the compute package; the training step wrote no model.",
        )
    try:
        response = conn.raw_model_upload(iter(frames), timeout=timeout)
    except grpc.RpcError as exc:
        # gRPC reports any failure of our frame iterator as CANCELLED; report the real cause.
        if isinstance(frames.error, OSError):
            raise TransferFailed(
                f"The trained model file could not be read ({frames.error.strerror})."
            ) from frames.error
        if frames.error is not None:
            raise frames.error from None
        raise error_from_rpc(exc, "uploading the trained model") from exc
    if response.status != pb.OK:
        detail = f" ({response.message})" if response.message else ""
        raise TransferFailed(f"The combiner did not accept the trained model{detail}.")

"""A TCP proxy that delays every byte by a fixed time each way: a long-distance link on loopback.

The FEDn network of a real participant is far away (20-100 ms round trip), the benchmarks' one
is on 127.0.0.1 (0.05 ms). gRPC's HTTP/2 flow control works end to end over the byte stream, so
delaying the stream in both directions delays its window updates too, and a receive window that
is too small for the distance shows as lost throughput, as it would over the internet. (The
kernel's netem qdisc would do this better; it is not available on this machine.)

Bandwidth is not limited: only the delay is added.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

_READ = 1 << 20


class LatencyProxy:
    """Listens on 127.0.0.1 (``address``) and forwards to ``target`` with ``one_way_ms`` each way."""

    def __init__(self, target_host: str, target_port: int, one_way_ms: float) -> None:
        self._target = (target_host, target_port)
        self._delay = one_way_ms / 1000
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._port = 0
        self._thread = threading.Thread(target=self._run, name="latency-proxy", daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._port}"

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the latency proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self._port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            self._pipe(client_reader, server_writer),
            self._pipe(server_reader, client_writer),
            return_exceptions=True,
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Each piece read is written ``delay`` after it was read, in order."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def send() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
            with contextlib.suppress(OSError):
                writer.close()

        sender = asyncio.ensure_future(send())
        try:
            while data := await reader.read(_READ):
                queue.put_nowait((time.monotonic() + self._delay, data))
        except OSError:
            pass
        queue.put_nowait((0.0, b""))
        with contextlib.suppress(OSError):
            await sender

"""A tiny real HTTP(S) server on 127.0.0.1 for answers a real FEDn controller never gives.

Tests map ``(method, path)`` to a handler returning ``Reply``; everything else is a plain HTML 404
like Flask's. Used for malformed JSON, 5xx, slow answers, pre-0.21 controllers and broken TLS.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    content_length: int | None = None  # default: len(body) when body is bytes

    @classmethod
    def json(cls, data: object, status: int = 200, **kwargs) -> Reply:
        return cls(status, json.dumps(data).encode(), {"Content-Type": "application/json"}, **kwargs)


Handler = Callable[[dict], Reply]
HTML_404 = b"<!doctype html><title>404 Not Found</title><h1>Not Found</h1>"
HTML_405 = b"<!doctype html><title>405 Method Not Allowed</title><h1>Method Not Allowed</h1>"


class FakeServer:
    def __init__(
        self, routes: dict[tuple[str, str], Reply | Handler], tls: ssl.SSLContext | None = None
    ) -> None:
        self.routes = routes
        self.requests: list[dict] = []
        self._stop = threading.Event()
        outer = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                seen = {"method": self.command, "path": path, "headers": dict(self.headers), "body": body}
                outer.requests.append(seen)
                route = outer.routes.get((self.command, path))
                reply = route(seen) if callable(route) else route
                if reply is None and any(p == path for _m, p in outer.routes):
                    # Flask's answer for a path it knows under other methods only.
                    reply = Reply(405, HTML_405, {"Content-Type": "text/html"})
                if reply is None:
                    reply = Reply(404, HTML_404, {"Content-Type": "text/html"})
                if reply.delay_s:
                    outer._stop.wait(reply.delay_s)
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if isinstance(reply.body, bytes):
                    self.send_header("Content-Length", str(reply.content_length or len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                else:
                    if reply.content_length is not None:
                        self.send_header("Content-Length", str(reply.content_length))
                    self.end_headers()
                    for chunk in reply.body:
                        self.wfile.write(chunk)
                if reply.content_length is not None:
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def self_signed_certificate(folder: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1 made with the ``openssl`` CLI; None when openssl is missing."""
    openssl = shutil.which("openssl")
    if not openssl:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def byte_stream(total: int, chunk: int = 256 * 1024) -> Iterator[bytes]:
    """``total`` bytes produced chunk by chunk, so the server never holds them all either."""
    block = bytes(range(256)) * (chunk // 256)
    sent = 0
    while sent < total:
        piece = block[: min(chunk, total - sent)]
        sent += len(piece)
        yield piece

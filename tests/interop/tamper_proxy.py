"""A man in the middle for tests: forwards HTTP to a real controller and corrupts package
downloads on the way, as a compromised network path would."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


class TamperingProxy:
    def __init__(self, upstream: str, tamper_path: str = "/api/v1/packages/download") -> None:
        self.upstream = upstream.rstrip("/")
        self.tamper_path = tamper_path
        self.tampered = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
                }
                upstream = requests.request(
                    self.command, proxy.upstream + self.path, headers=headers, data=body, timeout=30
                )
                content = upstream.content
                if self.path.startswith(proxy.tamper_path) and upstream.status_code == 200 and content:
                    middle = len(content) // 2
                    content = content[:middle] + bytes([content[middle] ^ 0xFF]) + content[middle + 1 :]
                    proxy.tampered += 1
                self.send_response(upstream.status_code)
                for key, value in upstream.headers.items():
                    if key.lower() not in (
                        "content-length",
                        "transfer-encoding",
                        "connection",
                        "content-encoding",
                    ):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> TamperingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

"""REST client for a FEDn controller: assignment, compute package, models.

Speaks FEDn 0.33's ``/api/v1`` routes and falls back to the pre-0.21 paths (``/add_client`` …)
when a v1 route does not exist (a plain 404, a 405 as on 0.20, another non-JSON 4xx; a new
server answers the old paths with 410). Every failure becomes a typed :class:`ControllerError`
whose text a person can read; the token never appears in a message or log line. Downloads
stream to a temp file and are renamed into place, so neither a package nor a model is ever held
in memory whole.
"""

from __future__ import annotations

import email.message
import logging
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from fedgui.core.controller.errors import (
    ControllerError,
    ControllerServerError,
    ControllerTooOld,
    ControllerUnreachable,
    ModelNotFound,
    NoCombinerAvailable,
    NoPackageYet,
    NotAController,
    TokenExpired,
    TokenRejected,
    UnexpectedResponse,
    WrongAddress,
    describe_request_failure,
)
from fedgui.core.controller.urls import normalize_controller_url
from fedgui.core.download_limit import DownloadTooLarge, check_size
from fedgui.core.fileio import atomic_writer
from fedgui.core.progress import ProgressCallback

__all__ = [
    "Assignment",
    "ControllerClient",
    "PublishedPackage",
]

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
FALLBACK_PACKAGE_NAME = "compute-package"
# The reference client waits 3 s between "no package yet" answers.
NO_PACKAGE_RETRY_S = 3.0
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
#: Statuses a FEDn API never sends for its own routes but a plain web server does: method not
#: allowed / not implemented (a static file server refusing a POST).
_NOT_FEDN_STATUSES = frozenset({405, 501})


@dataclass(frozen=True)
class Assignment:
    """Where the controller sends this client: the combiner to dial, and the package's helper."""

    host: str
    port: int
    fqdn: str | None
    helper_type: str
    client_id: str
    package: str
    ip: str


@dataclass(frozen=True)
class PublishedPackage:
    """What tells one upload of the network's package from another, without downloading it.

    FEDn stores each upload under a fresh name (``<uuid>.<ext>``) and names the download after
    it, so a changed name means a new upload, even when the controller cannot say the checksum.
    """

    file_name: str
    size: int | None


@dataclass(frozen=True)
class _Route:
    v1: str
    legacy: str | None = None


_ASSIGN = _Route("/api/v1/clients/add", "/add_client")
_CHECKSUM = _Route("/api/v1/packages/checksum", "/get_package_checksum")
_PACKAGE = _Route("/api/v1/packages/download", "/download_package")
_MODELS = _Route("/api/v1/models/")


class ControllerClient:
    """One controller, one token. Thread-safe enough for one worker thread at a time."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        verify: bool | str = True,
        timeout: float = 10.0,
        max_download_bytes: int | None = None,
    ) -> None:
        self.base_url = normalize_controller_url(base_url)
        self._token = token or None
        self.verify = verify
        self.timeout = timeout
        #: Downloads larger than this stop with DownloadTooLarge (None: no limit).
        self.max_download_bytes = max_download_bytes
        self.legacy_api = False  # set once a pre-0.21 controller is detected
        self._http = requests.Session()

    def __repr__(self) -> str:  # never the token
        return f"ControllerClient({self.base_url!r}, token={'set' if self._token else 'none'})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ControllerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- assignment -----------------------------------------------------------------------

    def assign(
        self,
        client_id: str,
        name: str,
        preferred_combiner: str = "",
        cancel: threading.Event | Callable[[], bool] | None = None,
        on_waiting: Callable[[str], None] | None = None,
        max_wait: float | None = None,
        retry_interval: float = NO_PACKAGE_RETRY_S,
    ) -> Assignment:
        """Ask the controller for a combiner (``POST /api/v1/clients/add``).

        While the controller answers 203 ("no compute package yet") this waits and asks again,
        telling ``on_waiting`` each time, until ``cancel`` is set (or returns True) or
        ``max_wait`` seconds have passed (None: no limit); then it raises :class:`NoPackageYet`.
        """
        # FEDn 0.33 reads combiner_preferred, older servers and the stock client use
        # preferred_combiner; "" rather than null because SQL statestores reject null.
        body = {
            "name": name,
            "client_id": client_id,
            "preferred_combiner": preferred_combiner or "",
            "combiner_preferred": preferred_combiner or "",
            "package": "remote",
        }
        started = time.monotonic()
        while True:
            response = self._call("POST", _ASSIGN, json=body)
            if response.status_code != 203:
                return self._parse_assignment(response, client_id, preferred_combiner)
            message = _json_message(response) or "No compute package found."
            waited = time.monotonic() - started
            log.info("Controller has no compute package yet (waited %.0f s)", waited)
            if on_waiting is not None:
                on_waiting(f"Waiting for the project admin to upload the compute package ({message})")
            if max_wait is not None and waited + retry_interval > max_wait:
                raise NoPackageYet(
                    f"The network's server has no compute package yet (waited {waited:.0f} seconds)."
                )
            if _wait_or_cancelled(cancel, retry_interval):
                raise NoPackageYet(
                    "Stopped waiting for the network's compute package.",
                    "Connect again once the project admin has uploaded it.",
                )

    def _parse_assignment(self, response: requests.Response, client_id: str, preferred: str) -> Assignment:
        data = self._json(response, "the assignment")
        # FEDn 0.33 bug: an unknown preferred combiner comes back as 200 with the body
        # [{"message": ..., "success": false}, 400]; treat it as the 400 it contains.
        if isinstance(data, list):
            payload = next((item for item in data if isinstance(item, dict)), {})
            status = next((item for item in data if isinstance(item, int)), 400)
            raise self._assignment_refused(status, str(payload.get("message", "")), preferred)
        if response.status_code != 200 or not isinstance(data, dict):
            raise self._unexpected(response, "the assignment")
        try:
            return Assignment(
                host=str(data["host"]),
                port=int(data["port"]),
                fqdn=data.get("fqdn") or None,
                helper_type=str(data.get("helper_type") or ""),
                # Servers before 0.27 omit client_id; we keep ours (it must stay stable anyway).
                client_id=str(data.get("client_id") or client_id),
                package=str(data.get("package") or "remote"),
                ip=str(data.get("ip") or ""),
            )
        except (KeyError, TypeError, ValueError):
            raise self._unexpected(response, "the assignment") from None

    def _assignment_refused(self, status: int, message: str, preferred: str) -> ControllerError:
        lowered = message.lower()
        if preferred and "not found or unavailable" in lowered:
            return NoCombinerAvailable(
                f"The network's server does not know the preferred training server {preferred!r}.",
                "Clear the preferred server in the connection settings, or ask your project admin for "
                "the right name.",
            )
        if "combiner" in lowered:
            return NoCombinerAvailable("The network has no training server ready right now.")
        return UnexpectedResponse(
            f"The network's server refused to register this client "
            f"(HTTP {status}: {self._scrub(message) or 'no reason given'})."
        )

    # ---- compute package ------------------------------------------------------------------

    def package_checksum(self) -> str | None:
        """The SHA-256 the controller reports for the active package, or None if it has none.

        FEDn 0.33 often answers 404 here even with a package (it hashes a file in its working
        directory), so None is normal: compare with the local hash only when one is given.
        """
        response = self._call("GET", _CHECKSUM, allow_json_404=True)
        if response.status_code == 404:
            return None
        data = self._json(response, "the package checksum")
        checksum = data.get("checksum") if isinstance(data, dict) else None
        if checksum is None:
            return None
        checksum = str(checksum).strip().lower()
        if not _SHA256_HEX.match(checksum):
            raise self._unexpected(response, "the package checksum")
        return checksum

    def published_package(self) -> PublishedPackage | None:
        """The name and size under which the controller serves its active package, from the
        headers of the download (a HEAD request: nothing is transferred). None when there is no
        package or the answer names no file.

        Why not ``/api/v1/packages/active``: FEDn 0.33 answers it for admin tokens only, while
        the download is what every client token may read. Only the name and the length are
        used: ETag and Last-Modified change when a controller replica re-fetches the same file.
        """
        response = self._call("HEAD", _PACKAGE, allow_json_404=True)
        response.close()
        if response.status_code == 404:
            return None
        disposition = response.headers.get("Content-Disposition")
        if not disposition:
            return None
        name = filename_from_disposition(disposition, "")
        if not name:
            return None
        return PublishedPackage(file_name=name, size=_content_length(response))

    def download_package(self, dest_dir: Path, progress: ProgressCallback | None = None) -> Path:
        """Stream the active compute package into ``dest_dir``; returns the file's path."""
        with self._call("GET", _PACKAGE, stream=True, allow_json_404=True) as response:
            if response.status_code == 404:
                raise NoPackageYet("The network's server has no compute package yet.")
            name = filename_from_disposition(
                response.headers.get("Content-Disposition"), FALLBACK_PACKAGE_NAME
            )
            return self._stream_to(response, Path(dest_dir) / name, progress, "the compute package")

    # ---- models -----------------------------------------------------------------------------

    def latest_model_id(self) -> str:
        """Id of the newest model (by ``committed_at``): the current global model.

        Uses ``GET /api/v1/models/`` sorted newest first; 0.33 has no "active model" any more
        (``/api/v1/models/active`` answers 410). FEDn 0.33 allows this for admin tokens only.
        """
        self._require_v1("look up models")
        headers = {"X-Limit": "1", "X-Sort-Key": "committed_at", "X-Sort-Order": "desc"}
        response = self._call("GET", _MODELS, headers=headers)
        data = self._json(response, "the model list")
        result = data.get("result") if isinstance(data, dict) else None
        if not isinstance(result, list):
            raise self._unexpected(response, "the model list")
        if not result:
            raise ModelNotFound("The network's server has no model yet.")
        model_id = result[0].get("model_id") or result[0].get("id")
        if not model_id:
            raise self._unexpected(response, "the model list")
        return str(model_id)

    def download_model(self, model_id: str, dest: Path, progress: ProgressCallback | None = None) -> Path:
        """Stream model ``model_id`` (``GET /api/v1/models/<id>/download``) to ``dest``."""
        self._require_v1("download models")
        route = _Route(f"/api/v1/models/{urllib.parse.quote(model_id, safe='')}/download")
        with self._call("GET", route, stream=True, allow_json_404=True) as response:
            if response.status_code == 404:
                raise ModelNotFound(
                    "The network's server does not have this model.", details=f"Model id: {model_id}"
                )
            return self._stream_to(response, Path(dest), progress, f"model {model_id}")

    # ---- HTTP plumbing -------------------------------------------------------------------

    def _call(
        self,
        method: str,
        route: _Route,
        *,
        allow_json_404: bool = False,
        stream: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        """Send to the v1 path (or the legacy one on an old server) and classify failures.

        Returns 2xx responses, and FEDn's own JSON 404s when ``allow_json_404`` (they mean "no
        package" and the like). An answer that means the route is missing (see ``_route_missing``)
        on a v1 path points to a pre-0.21 controller, so the legacy path is tried.
        """
        paths = [route.legacy] if self.legacy_api and route.legacy else [route.v1]
        if not self.legacy_api and route.legacy:
            paths.append(route.legacy)
        for index, path in enumerate(paths):
            response = self._send(method, path, stream=stream, **kwargs)
            route_missing = _route_missing(response)
            if route_missing and index + 1 < len(paths):
                response.close()
                log.info("Controller has no %s; trying the pre-0.21 path %s", path, paths[index + 1])
                continue
            if index > 0 and response.status_code == 410:
                # A 0.21+ server that lacks the v1 route: the address or prefix is wrong.
                response.close()
                raise self._with_details(self._error_for(response, route, paths[0], status=404), response)
            if index > 0 and not route_missing:
                self.legacy_api = True
            if 200 <= response.status_code < 300:
                return response
            if response.status_code == 404 and allow_json_404 and not route_missing:
                return response
            error = self._error_for(response, route, path)
            response.close()
            raise self._with_details(error, response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, path: str, stream: bool = False, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            return self._http.request(
                method,
                self.base_url + path,
                headers=headers,
                timeout=(self.timeout, self.timeout),
                verify=self.verify,
                stream=stream,
                allow_redirects=True,
                **kwargs,
            )
        except requests.RequestException as exc:
            error = describe_request_failure(exc, self.base_url, self.timeout)
            # Raised to the caller, who tells the person (with these details); not a second warning.
            log.debug("%s %s failed: %s", method, path, error.message)
            raise error from None

    def _error_for(
        self, response: requests.Response, route: _Route, path: str, status: int | None = None
    ) -> ControllerError:
        status = status or response.status_code
        message = _json_message(response) if _is_json(response) else ""
        where = "The network's server"
        if status == 401 or status == 403:
            if message.strip().lower() == "token expired":
                return TokenExpired(f"{where} says your access token has expired.")
            if message.strip().lower() == "missing token":
                return TokenRejected(
                    f"{where} needs an access token.",
                    "Enter the client token your project admin gave you in the connection settings.",
                )
            return TokenRejected(
                f"{where} did not accept your access token ({self._scrub(message) or status})."
            )
        if status == 404 and not message:
            return NotAController(
                "Something answers at this address, but it is not a FEDn network: it does not know "
                "the requests fedgui sends."
            )
        if status == 404:
            return WrongAddress(f"{where} has no FEDn API at this address (HTTP 404 for {route.v1}).")
        if status in _NOT_FEDN_STATUSES and not _is_json(response):
            # FEDn's API accepts these methods; a web server that refuses them is something else.
            return NotAController(
                "Something answers at this address, but it is not a FEDn network: it refused the "
                f"request as a web server would (HTTP {status})."
            )
        if status == 410:
            return UnexpectedResponse(f"{where} no longer offers {path} (HTTP 410).")
        if status == 400 and route is _ASSIGN:
            return self._assignment_refused(status, message, "")
        if status == 400:
            reason = self._scrub(message) or "no reason given"
            return UnexpectedResponse(f"{where} refused the request (HTTP 400: {reason}).")
        if status >= 500:
            detail = f": {self._scrub(message)}" if message else ""
            return ControllerServerError(f"{where} reported an internal error (HTTP {status}{detail}).")
        return self._unexpected(response, path)

    def _with_details(self, error: ControllerError, response: requests.Response) -> ControllerError:
        if not error.details:
            kind = response.headers.get("Content-Type") or "no content type"
            error.details = (
                f"Controller address: {self.base_url}; {response.request.method} {response.request.path_url} "
                f"answered HTTP {response.status_code} ({kind})"
            )
        return error

    def _json(self, response: requests.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise self._unexpected(response, what) from None

    def _unexpected(self, response: requests.Response, what: str) -> UnexpectedResponse:
        if not _is_json(response) and 200 <= response.status_code < 300:
            # A web page where FEDn answers in JSON: another web service at this address.
            error: UnexpectedResponse = NotAController(
                "Something answers at this address, but it is not a FEDn network: it sent a web page "
                f"where fedgui expected {what}."
            )
            self._with_details(error, response)
            return error
        return UnexpectedResponse(
            f"The network's server sent an answer fedgui does not understand for {what} "
            f"(HTTP {response.status_code}, {response.headers.get('Content-Type') or 'no content type'})."
        )

    def _require_v1(self, action: str) -> None:
        if self.legacy_api:
            raise ControllerTooOld(
                f"The network's server runs a FEDn version before 0.21 that cannot {action}."
            )

    def _stream_to(
        self, response: requests.Response, target: Path, progress: ProgressCallback | None, what: str
    ) -> Path:
        total = _content_length(response)
        check_size(what, total, self.max_download_bytes)  # announced too large: not a byte read
        done = 0
        if progress is not None:
            progress(0, total)
        try:
            with atomic_writer(target, "wb") as handle:
                for chunk in response.iter_content(CHUNK_BYTES):
                    handle.write(chunk)
                    done += len(chunk)
                    if self.max_download_bytes is not None and done > self.max_download_bytes:
                        raise DownloadTooLarge(what, self.max_download_bytes)
                    if progress is not None:
                        progress(done, total)
                if total is not None and done != total:
                    raise ControllerUnreachable(
                        f"The download of {what} broke off ({done} of {total} bytes).",
                        reason="broken",
                    )
        except requests.RequestException as exc:
            raise describe_request_failure(exc, self.base_url, self.timeout) from None
        return target

    def _scrub(self, text: str) -> str:
        """Server text shown to a person: short, and never carrying the token."""
        text = (text or "").strip()[:300]
        if self._token:
            text = text.replace(self._token, "***")
        return text


def filename_from_disposition(header: str | None, fallback: str) -> str:
    """The file name in a Content-Disposition header, reduced to a safe plain name.

    FEDn sends ``attachment; filename=<uuid>.<ext>`` unquoted; a hostile server could send
    ``../../x`` or control characters, so only the last path part with ``[A-Za-z0-9._-]`` stays.
    """
    if not header:
        return fallback
    message = email.message.Message()
    message["Content-Disposition"] = header
    raw = message.get_filename() or ""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = _SAFE_NAME.sub("_", name).lstrip(".")[:200]
    return name if name.strip("_") else fallback


def _content_length(response: requests.Response) -> int | None:
    if response.headers.get("Content-Encoding"):
        return None  # the length is of the encoded body, not of what iter_content yields
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def _route_missing(response: requests.Response) -> bool:
    """The server has no such route, as opposed to the route answering with an error. A plain 404;
    a 405 (FEDn 0.20 has ``/api/v1/clients/<id>`` for GET and DELETE, so ``POST
    /api/v1/clients/add`` is "method not allowed"); any other 4xx that is not FEDn's JSON, except
    the answers about the token or about load (a proxy's 401 or 429 page is not about the route)."""
    status = response.status_code
    if status == 405:
        return True
    if 400 <= status < 500 and status not in (401, 403, 408, 410, 429):
        return not _is_json(response)
    return False


def _is_json(response: requests.Response) -> bool:
    return "json" in (response.headers.get("Content-Type") or "").lower()


def _json_message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error") or "")
    return ""


def _wait_or_cancelled(cancel: threading.Event | Callable[[], bool] | None, seconds: float) -> bool:
    """Sleep ``seconds`` unless cancelled first; True when cancelled."""
    if cancel is None:
        time.sleep(seconds)
        return False
    if isinstance(cancel, threading.Event):
        return cancel.wait(seconds)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cancel():
            return True
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
    return bool(cancel())

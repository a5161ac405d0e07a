"""Errors from talking to a FEDn controller, each with a plain-language message and next step.

``describe_request_failure`` and ``error_for_response`` turn what ``requests`` reports into these
types, so callers (the session, the wizard) can react per kind and show ``str(err)`` as it is.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Iterator

import requests

from fedgui.core.errors import FedguiError

_ASK_ADMIN = "ask your project admin"


class ControllerError(FedguiError):
    """Anything that went wrong between fedgui and the controller."""

    default_next_step = f"Try again in a moment; if it keeps happening, {_ASK_ADMIN}."


class ControllerUnreachable(ControllerError):
    """No connection: DNS failure, connection refused, network down, connection cut."""

    def __init__(
        self, message: str, next_step: str | None = None, reason: str = "network", *, details: str = ""
    ) -> None:
        super().__init__(message, next_step, details=details)
        self.reason = reason  # "dns", "refused", "network" or "broken"


class ControllerTimeout(ControllerError):
    pass


class TlsVerificationFailed(ControllerError):
    default_next_step = (
        "If your project uses its own certificate, ask your project admin for the CA file and set it in "
        "the connection settings. Do not turn verification off unless the admin tells you to."
    )


class TokenRejected(ControllerError):
    default_next_step = f"Check that you pasted the whole token, or {_ASK_ADMIN} for a new client token."


class TokenExpired(TokenRejected):
    default_next_step = "Ask your project admin for a new token and enter it in the connection settings."


class WrongAddress(ControllerError):
    default_next_step = f"Check the address, port and path prefix, or {_ASK_ADMIN} for the network's address."


class NoPackageYet(ControllerError):
    default_next_step = "Wait until the project admin uploads the compute package, then try again."


class NoCombinerAvailable(ControllerError):
    default_next_step = (
        f"Try again in a few minutes. If you set a preferred server in the settings, clear it; otherwise "
        f"{_ASK_ADMIN}."
    )


class ControllerServerError(ControllerError):
    default_next_step = f"This is a problem on the server side. Try again later or {_ASK_ADMIN}."


class UnexpectedResponse(ControllerError):
    default_next_step = (
        f"Check that the address is your network's; if it is, {_ASK_ADMIN} which FEDn version the "
        "project runs."
    )


class NotAController(WrongAddress, UnexpectedResponse):
    """Something answers at the address, but it is not a FEDn network's server: another web
    service on that port, or the training server's (combiner's) port given instead."""

    default_next_step = (
        "Check the address and the port: this one may belong to another service or to another part "
        "of the network. Your project admin can tell you the right ones (or send a configuration file)."
    )


class ControllerTooOld(ControllerError):
    default_next_step = f"{_ASK_ADMIN.capitalize()} to upgrade the network to FEDn 0.21 or newer."


class ModelNotFound(ControllerError):
    default_next_step = "Wait until the project has a model (the admin uploads a seed model), then try again."


def describe_request_failure(
    exc: requests.RequestException, base_url: str, timeout: float
) -> ControllerError:
    """Turn a transport-level ``requests`` exception into a typed error (never showing headers).

    The message names no address (a person reads it); the address goes into ``details``."""
    error = _request_failure(exc, timeout)
    error.details = error.details or f"Controller address: {base_url} ({type(exc).__name__})"
    return error


def _request_failure(exc: requests.RequestException, timeout: float) -> ControllerError:
    where = "The network's server"
    if isinstance(exc, requests.exceptions.SSLError):
        detail = _tls_detail(exc)
        return TlsVerificationFailed(
            f"{where} could not be reached securely: its certificate could not be verified ({detail})."
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return ControllerTimeout(
            f"{where} did not answer within {timeout:g} seconds.",
            f"Check your internet connection and the address, then try again; if it keeps happening, "
            f"{_ASK_ADMIN}.",
        )
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return ControllerUnreachable(f"{where} broke off the transfer.", reason="broken")
    if isinstance(exc, requests.exceptions.ConnectionError):
        if _has_cause(exc, http.client.BadStatusLine) and not _has_cause(exc, http.client.RemoteDisconnected):
            # Something answered, but not in HTTP: typically the training server's (gRPC) port.
            return NotAController(
                "Something answers at this address, but it is not a FEDn network's web address "
                "(it does not speak the web protocol fedgui expects)."
            )
        if _has_cause(exc, socket.gaierror) or _mentions(
            exc, "NameResolutionError", "Name or service not known"
        ):
            return ControllerUnreachable(
                "There is no server with this name: the address could not be looked up.",
                f"Check the spelling of the address and your internet connection, or {_ASK_ADMIN}.",
                reason="dns",
            )
        if _has_cause(exc, ConnectionRefusedError) or _mentions(exc, "Connection refused", "Errno 111"):
            return ControllerUnreachable(
                "Nothing answers at this address and port (the connection was refused).",
                f"Check the address and port, or {_ASK_ADMIN} whether the network is running.",
                reason="refused",
            )
        return ControllerUnreachable(
            f"{where} could not be reached (the network connection failed).",
            f"Check your internet connection and the address, or {_ASK_ADMIN}.",
        )
    return ControllerError(f"Talking to the network's server failed ({type(exc).__name__}).")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it wraps (urllib3 keeps the real cause in ``reason``), and so on."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        stack.extend([item.__cause__, item.__context__, getattr(item, "reason", None), *item.args])


def _has_cause(exc: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(item, kind) for item in _causes(exc))


def _mentions(exc: BaseException, *words: str) -> bool:
    return any(word in f"{type(item).__name__} {item}" for item in _causes(exc) for word in words)


def _tls_detail(exc: BaseException) -> str:
    for item in _causes(exc):
        if isinstance(item, ssl.SSLCertVerificationError):
            return item.verify_message or "certificate verify failed"
    for item in _causes(exc):
        if isinstance(item, ssl.SSLError):
            return item.reason or type(item).__name__
    return "TLS handshake failed"

"""Errors of the combiner connection, in words a data provider can act on.

:func:`error_from_rpc` is the one place that turns a gRPC failure into one of these; the session
engine uses it too, so every RPC failure reads the same way wherever it happens.
"""

from __future__ import annotations

import grpc

from fedgui.core.errors import FedguiError


class ProtocolError(FedguiError):
    """Something went wrong talking to the combiner.

    ``code`` is the gRPC status name ("UNAVAILABLE", ...) or "" when the failure did not come
    from gRPC; ``details`` is the server's own text, for the log file rather than the person.
    """

    default_next_step = "Try again later; if it keeps happening, send the log file to the network operator."

    def __init__(self, message: str, next_step: str | None = None, *, code: str = "", details: str = ""):
        super().__init__(message, next_step)
        self.code = code
        self.details = details


class TokenRejected(ProtocolError):
    default_next_step = (
        "The token may be wrong or expired (the combiner reports both the same way). Ask the network "
        "operator for a new client token and enter it in the connection settings."
    )


class TokenLacksClientRole(ProtocolError):
    default_next_step = (
        "The token is valid but is not a client token. Ask the network operator for a token with the "
        "client role."
    )


class CombinerUnreachable(ProtocolError):
    default_next_step = (
        "Check the internet connection. fedgui keeps retrying; if this lasts, ask the network operator "
        "whether the combiner is running."
    )


class TlsFailed(ProtocolError):
    default_next_step = (
        "The combiner's certificate could not be verified. If the network uses its own certificate "
        "authority, add its CA file in the connection settings."
    )


class CombinerTimeout(ProtocolError):
    default_next_step = "The network may be slow. fedgui will try again."


class CallCancelled(ProtocolError):
    default_next_step = ""


class CombinerTooOld(ProtocolError):
    default_next_step = "This feature needs a newer FEDn combiner; the rest keeps working."


class CombinerFailed(ProtocolError):
    """The combiner answered with an internal error (a bug or a bad message on its side)."""


class ModelNotFound(ProtocolError):
    default_next_step = (
        "The network may have moved on to a newer model. fedgui will wait for the next task; if this "
        "repeats, tell the network operator."
    )


class TransferFailed(ProtocolError):
    """A model download or upload did not complete."""


class InvalidTaskOutput(ProtocolError):
    """What the compute package produced cannot be sent as-is (e.g. no ``num_examples``)."""

    default_next_step = "Tell the author of the compute package; the task was reported as failed."


class BadAssignment(ProtocolError):
    default_next_step = "Tell the network operator; the controller sent an unusable combiner address."


_TLS_HINTS = ("ssl", "certificate", "handshake", "tls")


def error_from_rpc(rpc_error: grpc.RpcError, what: str) -> ProtocolError:
    """Turn a failed gRPC call into a plain-language :class:`ProtocolError`.

    ``what`` completes the sentence "... while <what>", e.g. "sending a heartbeat".
    """
    code = rpc_error.code() if isinstance(rpc_error, grpc.Call) else None
    details = (rpc_error.details() or "") if isinstance(rpc_error, grpc.Call) else str(rpc_error)
    name = code.name if code is not None else ""
    extra = {"code": name, "details": details}

    if code == grpc.StatusCode.UNAUTHENTICATED:
        return TokenRejected(f"The combiner did not accept the access token while {what}.", **extra)
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return TokenLacksClientRole(f"The access token is not allowed to do this ({what}).", **extra)
    # FEDn's client treats UNKNOWN "Stream removed" (an HTTP/2 stream reset) like UNAVAILABLE.
    if code == grpc.StatusCode.UNAVAILABLE or (
        code == grpc.StatusCode.UNKNOWN and details == "Stream removed"
    ):
        if any(hint in details.lower() for hint in _TLS_HINTS):
            return TlsFailed(f"A secure connection to the combiner failed while {what}.", **extra)
        return CombinerUnreachable(f"The combiner could not be reached while {what}.", **extra)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return CombinerTimeout(f"The combiner took too long to answer while {what}.", **extra)
    if code == grpc.StatusCode.CANCELLED:
        return CallCancelled(f"The connection was closed while {what}.", **extra)
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return CombinerTooOld(f"The combiner does not support {what}.", **extra)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return CombinerFailed(
            f"A message was too large for the combiner while {what}.",
            "Tell the network operator; fedgui splits models into small pieces, so this is unexpected.",
            **extra,
        )
    return CombinerFailed(f"The combiner reported an error while {what}.", **extra)

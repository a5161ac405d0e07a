"""What the session does with each kind of failure.

Three answers: try again by itself after a back-off (the network is down, the combiner
restarted), wait for a new token, or wait for the person (the package is broken, the address
is wrong). Nothing here ends the session: only the person stops it.
"""

from __future__ import annotations

import enum
from typing import TypeGuard

from fedgui.core.controller import errors as ctl
from fedgui.core.disk_space import DiskFull, full_file, is_disk_full
from fedgui.core.errors import FedguiError
from fedgui.core.protocol import errors as proto
from fedgui.core.session.tokens import token_is_expired


class Disposition(enum.Enum):
    RETRY = "retry"
    TOKEN_REJECTED = "token_rejected"
    TOKEN_EXPIRED = "token_expired"
    NEEDS_PERSON = "needs_person"


_RETRY_CONTROLLER_ERRORS = (
    ctl.ControllerUnreachable,
    ctl.ControllerTimeout,
    ctl.ControllerServerError,
    ctl.NoCombinerAvailable,
    ctl.UnexpectedResponse,
)


_RETRY_PROTOCOL_ERRORS = (
    proto.CombinerUnreachable,
    proto.CombinerTimeout,
    proto.CombinerFailed,
    proto.CallCancelled,
    proto.TransferFailed,
    proto.BadAssignment,
    proto.ModelNotFound,
)


class TokenExpiredError(FedguiError):
    default_next_step = "Ask your project admin for a new token and enter it in fedgui."


def _protocol_error(exc: BaseException) -> BaseException:
    """Turn a raw gRPC error into our typed protocol error (same object for anything else)."""
    import grpc

    if isinstance(exc, grpc.RpcError):
        # Completes "The combiner could not be reached while …": the stream is what broke.
        return proto.error_from_rpc(exc, "waiting for work")
    return exc


def classify(exc: BaseException, token: str | None) -> tuple[Disposition, FedguiError]:
    exc = _protocol_error(exc)
    if isinstance(exc, ctl.TokenExpired):
        return Disposition.TOKEN_EXPIRED, exc
    if _is_token_problem(exc):
        if token_is_expired(token):
            return Disposition.TOKEN_EXPIRED, TokenExpiredError("Your access token has expired.")
        return Disposition.TOKEN_REJECTED, exc
    if isinstance(exc, _RETRY_CONTROLLER_ERRORS + _RETRY_PROTOCOL_ERRORS):
        return Disposition.RETRY, exc
    if isinstance(exc, FedguiError):
        return Disposition.NEEDS_PERSON, exc
    if is_disk_full(exc):
        where = full_file(exc) or "this computer's disk"
        return Disposition.NEEDS_PERSON, DiskFull(
            "fedgui's files",
            where,
            "Free some space on that disk; fedgui tries again by itself in a few minutes "
            "(in the window, Retry tries at once).",
        )
    if isinstance(exc, OSError):
        return Disposition.RETRY, FedguiError(f"A file or network operation failed: {exc.strerror or exc}.")
    return Disposition.RETRY, FedguiError(f"Unexpected problem: {type(exc).__name__}: {exc}")


def _is_token_problem(exc: BaseException) -> TypeGuard[FedguiError]:
    return isinstance(exc, (ctl.TokenRejected, proto.TokenRejected, proto.TokenLacksClientRole))

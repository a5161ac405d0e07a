"""The failure policy's whole table: every kind of failure and what the session does with it.
(test_session_engine drives a session through each of the four answers.)"""

from __future__ import annotations

import base64
import errno
import json
import time

import grpc
import pytest

from fedgui.core.controller import errors as ctl
from fedgui.core.errors import FedguiError
from fedgui.core.package.errors import ChecksumMismatch, PackageNotApproved
from fedgui.core.protocol import errors as proto
from fedgui.core.protocol.channel import CombinerConnection, CombinerEndpoint
from fedgui.core.protocol.generated import fedn_pb2 as pb
from fedgui.core.protocol.testing import FakeCombiner
from fedgui.core.session.engine import PackageRejected
from fedgui.core.session.failures import Disposition, TokenExpiredError, classify
from fedgui.core.session.package_fetch import PackagePinMismatch

RETRY, REJECTED, EXPIRED, PERSON = (
    Disposition.RETRY,
    Disposition.TOKEN_REJECTED,
    Disposition.TOKEN_EXPIRED,
    Disposition.NEEDS_PERSON,
)


def _jwt(expires_in: float) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"{b64(b'{}')}.{b64(json.dumps({'exp': time.time() + expires_in}).encode())}.sig"


TABLE = [
    # the controller
    (ctl.ControllerUnreachable("x"), RETRY),
    (ctl.ControllerTimeout("x"), RETRY),
    (ctl.ControllerServerError("x"), RETRY),
    (ctl.NoCombinerAvailable("x"), RETRY),
    (ctl.UnexpectedResponse("x"), RETRY),
    (ctl.TokenRejected("x"), REJECTED),
    (ctl.TokenExpired("x"), EXPIRED),
    (ctl.WrongAddress("x"), PERSON),
    (ctl.TlsVerificationFailed("x"), PERSON),
    (ctl.ControllerTooOld("x"), PERSON),
    (ctl.NoPackageYet("x"), PERSON),
    # the combiner
    (proto.CombinerUnreachable("x"), RETRY),
    (proto.CombinerTimeout("x"), RETRY),
    (proto.CombinerFailed("x"), RETRY),
    (proto.CallCancelled("x"), RETRY),
    (proto.TransferFailed("x"), RETRY),
    (proto.BadAssignment("x"), RETRY),
    (proto.ModelNotFound("x"), RETRY),
    (proto.TokenRejected("x"), REJECTED),
    (proto.TokenLacksClientRole("x"), REJECTED),
    (proto.TlsFailed("x"), PERSON),
    (proto.CombinerTooOld("x"), PERSON),
    # the package and this computer
    (PackageRejected("x"), PERSON),
    (PackagePinMismatch("x"), PERSON),
    (PackageNotApproved("ab" * 32), PERSON),
    (ChecksumMismatch("ab" * 32, "cd" * 32), PERSON),
    (FedguiError("anything else we explain"), PERSON),
    (OSError(errno.ENOSPC, "No space left on device"), PERSON),
    (OSError(errno.ECONNRESET, "Connection reset by peer"), RETRY),
    (PermissionError(errno.EACCES, "Permission denied"), RETRY),
    (RuntimeError("a bug"), RETRY),
]


def _name(value: object) -> str:
    return type(value).__name__ if isinstance(value, Exception) else ""


@pytest.mark.parametrize("failure, expected", TABLE, ids=_name)
def test_each_failure_gets_its_answer(failure, expected):
    disposition, error = classify(failure, "opaque-token")
    assert disposition is expected
    assert isinstance(error, FedguiError) and str(error)  # always a sentence for the person


def test_the_table_covers_every_error_class_the_policy_names():
    from fedgui.core.session import failures

    named = set(failures._RETRY_CONTROLLER_ERRORS + failures._RETRY_PROTOCOL_ERRORS)
    named |= {ctl.TokenExpired, ctl.TokenRejected, proto.TokenRejected, proto.TokenLacksClientRole}
    assert named <= {type(failure) for failure, _ in TABLE}


@pytest.mark.parametrize("failure", [ctl.TokenRejected("x"), proto.TokenRejected("x")])
def test_a_rejected_token_whose_exp_has_passed_is_said_to_be_expired(failure):
    # FEDn's combiner says "Invalid token" for an expired one too; the JWT's exp tells them apart.
    disposition, error = classify(failure, _jwt(expires_in=-10))
    assert disposition is EXPIRED and isinstance(error, TokenExpiredError)
    assert classify(failure, _jwt(expires_in=600))[0] is REJECTED


def test_disk_full_says_what_to_do():
    _, error = classify(OSError(errno.ENOSPC, "No space left on device"), None)
    assert "no space left on the disk" in str(error) and "Free some space" in str(error)


@pytest.mark.parametrize(
    "code, expected",
    [
        (grpc.StatusCode.UNAVAILABLE, RETRY),
        (grpc.StatusCode.DEADLINE_EXCEEDED, RETRY),
        (grpc.StatusCode.INTERNAL, RETRY),
        (grpc.StatusCode.UNAUTHENTICATED, REJECTED),
        (grpc.StatusCode.PERMISSION_DENIED, REJECTED),
        (grpc.StatusCode.UNIMPLEMENTED, PERSON),
    ],
)
def test_raw_grpc_errors_are_classified_by_their_status(code, expected):
    # A real gRPC error from a real call (to the in-process FakeCombiner), not a hand-made one.
    with FakeCombiner() as fake:
        fake.failures["/fedn.Connector/SendHeartbeat"] = (code, "refused by the test")
        endpoint = CombinerEndpoint("127.0.0.1", fake.port, use_tls=False)
        with (
            CombinerConnection(endpoint, None, "client-id", "client") as connection,
            pytest.raises(grpc.RpcError) as raised,
        ):
            connection.connector.SendHeartbeat(pb.Heartbeat(), timeout=5)
    assert classify(raised.value, None)[0] is expected

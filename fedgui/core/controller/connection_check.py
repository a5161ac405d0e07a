""" "Test connection": the real assignment call, turned into a checklist a person can read.

Blocking (network); run it from a worker thread. Qt-free so it can be tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fedgui.core.controller import errors as ctl
from fedgui.core.controller.client import Assignment, ControllerClient
from fedgui.core.controller.transport_security import TOKEN_UNENCRYPTED, controller_is_encrypted
from fedgui.core.errors import FedguiError
from fedgui.core.protocol.channel import combiner_uses_tls

REACHABLE, TOKEN, COMBINER, ENCRYPTED, PACKAGE = "reachable", "token", "combiner", "encrypted", "package"
CHECKS: list[tuple[str, str]] = [
    (REACHABLE, "Network reachable?"),
    (TOKEN, "Token accepted?"),
    (COMBINER, "Training server ready?"),
    (ENCRYPTED, "Token sent encrypted?"),
    (PACKAGE, "Network's code available?"),
]

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass
class ConnectionReport:
    """One (state, detail) per check key; ``error`` is the first failure, in plain words."""

    results: dict[str, tuple[str, str]] = field(default_factory=dict)
    assignment: Assignment | None = None
    package_checksum: str | None = None
    error: FedguiError | None = None
    #: Technical facts for support (addresses, ports, checksums): shown behind "Details".
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.assignment is not None


def check_connection(
    url: str,
    token: str | None,
    client_id: str,
    client_name: str,
    preferred_combiner: str = "",
    verify: bool | str = True,
    timeout: float = 10.0,
) -> ConnectionReport:
    report = ConnectionReport()
    try:
        client = ControllerClient(url, token=token, verify=verify, timeout=timeout)
    except FedguiError as err:  # the address itself is malformed
        return _failed_before_contact(report, err)
    report.details.append(f"Controller: {client.base_url}")
    try:
        _run_checks(report, client, token, client_id, client_name, preferred_combiner)
    finally:
        client.close()
    if report.error is not None and report.error.details:
        report.details.append(report.error.details)
    return report


def _run_checks(
    report: ConnectionReport,
    client: ControllerClient,
    token: str | None,
    client_id: str,
    client_name: str,
    preferred_combiner: str,
) -> ConnectionReport:
    try:
        # max_wait=0: a controller without a package answers at once instead of making us wait.
        report.assignment = client.assign(client_id, client_name, preferred_combiner, max_wait=0)
    except ctl.TokenRejected as err:
        report.results[REACHABLE] = (PASSED, "the network answered")
        report.results[TOKEN] = (FAILED, err.message)
        return _skip_rest(report, err)
    except ctl.NoPackageYet as err:
        _reached(report, client, token)
        report.results[COMBINER] = (SKIPPED, "the network gets one ready once it has its code")
        report.results[PACKAGE] = (FAILED, "the project admin has not uploaded the network's code yet")
        report.error = err
        return report
    except ctl.NoCombinerAvailable as err:
        _reached(report, client, token)
        report.results[COMBINER] = (FAILED, err.message)
        return _skip_rest(report, err)
    except FedguiError as err:  # unreachable, timeout, TLS, wrong address, not a controller...
        return _failed_before_contact(report, err)
    _reached(report, client, token)
    assignment = report.assignment
    report.results[COMBINER] = (PASSED, "")
    report.details.append(f"Combiner: {assignment.host}:{assignment.port} (client id {client_id})")
    report.results[ENCRYPTED] = _encryption_result(client.base_url, assignment, token)
    try:
        report.package_checksum = client.package_checksum()
    except FedguiError as err:
        report.results[PACKAGE] = (FAILED, err.message)
        report.error = err
        return report
    if report.package_checksum:
        report.details.append(f"Compute package checksum (SHA-256): {report.package_checksum}")
    else:
        report.details.append(
            "The controller publishes no package checksum; fedgui computes it after the download"
        )
    report.results[PACKAGE] = (PASSED, "")
    return report


def _encryption_result(controller_url: str, assignment: Assignment, token: str | None) -> tuple[str, str]:
    """A warning, not a stop: networks without TLS exist, and fedgui still connects to them."""
    encrypted = controller_is_encrypted(controller_url) and combiner_uses_tls(assignment)
    if encrypted:
        return PASSED, "the connection is encrypted (TLS)"
    if not token:
        return SKIPPED, "no token is sent; the connection is not encrypted (no TLS)"
    return FAILED, TOKEN_UNENCRYPTED


def _reached(report: ConnectionReport, client: ControllerClient, token: str | None) -> None:
    report.results[REACHABLE] = (PASSED, "the network answered")
    report.results[TOKEN] = (PASSED, "" if token else "no token needed by this network")


def _failed_before_contact(report: ConnectionReport, err: FedguiError) -> ConnectionReport:
    report.results[REACHABLE] = (FAILED, err.message)
    return _skip_rest(report, err)


def _skip_rest(report: ConnectionReport, err: FedguiError) -> ConnectionReport:
    for key, _question in CHECKS:
        report.results.setdefault(key, (SKIPPED, "not checked"))
    report.error = err
    return report

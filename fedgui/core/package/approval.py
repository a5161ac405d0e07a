"""Nothing runs before the person approves it: approvals are remembered by SHA-256 per profile."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from fedgui.core.package.cache import PreparedPackage
from fedgui.core.package.checksum import normalize_checksum
from fedgui.core.package.errors import PackageNotApproved


def is_approved(checksum: str, approved_checksums: Iterable[str]) -> bool:
    wanted = normalize_checksum(checksum)
    if wanted is None:
        return False
    return any(normalize_checksum(item) == wanted for item in approved_checksums)


def require_approval(checksum: str, approved_checksums: Iterable[str]) -> None:
    """Raise :class:`PackageNotApproved` unless ``checksum`` is among ``approved_checksums``."""
    if not is_approved(checksum, approved_checksums):
        raise PackageNotApproved(checksum.strip().lower())


class Approvals(Protocol):
    """Where approvals are remembered: a profile (a session, the wizard) or the preview's own list."""

    def checksums(self) -> Iterable[str]: ...

    def remember(self, checksum: str) -> None: ...


class ApprovalList:
    """Approvals held in memory only (a list the caller keeps, e.g. a profile not saved yet)."""

    def __init__(self, checksums: Iterable[str] = ()) -> None:
        self._checksums = list(checksums)

    def checksums(self) -> list[str]:
        return list(self._checksums)

    def remember(self, checksum: str) -> None:
        if not is_approved(checksum, self._checksums):
            self._checksums.append(checksum)


#: Asked when a package is not approved yet: True approves it (it is then remembered); False, or
#: an error of its own, refuses it. The session asks the person; a preview reads its --approve.
Decide = Callable[[PreparedPackage], bool]


def gate(package: PreparedPackage, approvals: Approvals, decide: Decide) -> bool:
    """Nothing in ``package`` may run unless this returns: True when it was approved just now."""
    if is_approved(package.checksum, approvals.checksums()):
        return False
    if not decide(package):
        raise PackageNotApproved(package.checksum)
    approvals.remember(package.checksum)
    return True

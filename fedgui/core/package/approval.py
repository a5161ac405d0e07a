"""Nothing runs before the person approves it: approvals are remembered by SHA-256 per profile."""

from __future__ import annotations

from collections.abc import Iterable

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

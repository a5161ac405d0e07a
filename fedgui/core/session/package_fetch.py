"""The session's package step: the network's compute package, from the controller to the cache.

The network names its package by a checksum (SHA-256) on the controller. A package already
unpacked in the shared :class:`PackageCache` under that checksum is used as it is; otherwise
it is downloaded, verified against the checksum and unpacked. A connection pinned to one
checksum refuses any other, before and after the download. Afterwards the cache keeps only the
package in use and every profile's last approved one.

Approval and the environment come after this step (``fedgui.core.prepare``); what is fetched
here has not run.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fedgui.core.disk_space import DiskFull, full_file, is_disk_full
from fedgui.core.errors import FedguiError
from fedgui.core.events import EventBus, client_line
from fedgui.core.package.cache import PackageCache, PreparedPackage
from fedgui.core.profile import Profile, ProfileStore
from fedgui.core.session.tasks import progress_emitter

log = logging.getLogger(__name__)


class PackagePinMismatch(FedguiError):
    default_next_step = "Ask your project admin which package is current."


class PackageFetcher:
    """Fetches the package for one session (its profile, its work folder), one connection at a
    time, on the session thread. ``check_stop`` unwinds when the person stopped meanwhile."""

    def __init__(
        self,
        profile: Profile,
        packages: PackageCache,
        profile_store: ProfileStore | None,
        work_dir: Path,
        bus: EventBus,
        check_stop: Callable[[], None],
    ) -> None:
        self.profile = profile  # the session's own copy: its pin and approvals are current
        self._packages = packages
        self._profile_store = profile_store
        self._work_dir = work_dir
        self._bus = bus
        self._check_stop = check_stop
        #: How the controller named the package fetched last (for the package watch), if it said.
        self.published: Any = None
        self._said_no_checksum = False

    def fetch(self, controller: Any) -> PreparedPackage:
        """Checksum → (download) → verify → unpack. A package is downloaded only when its
        checksum is not already unpacked in the cache."""
        # Read how the package is named before fetching it: an upload in between then shows as a
        # change at the first check, never as no change.
        try:
            self.published = controller.published_package()
        except FedguiError as exc:
            log.info("the controller did not say how it names the package: %s", exc)
            self.published = None
        checksum = controller.package_checksum()
        pin = self.profile.package_checksum_pin
        if pin and checksum and checksum.lower() != pin.lower():
            raise PackagePinMismatch(
                f"The network offers the compute package {checksum[:12]}…, but this connection is "
                f"pinned to {pin[:12]}…; nothing was downloaded or run.",
                "Ask your project admin whether the package changed, then update the pin in the settings.",
            )
        package = self._packages.get(checksum) if checksum else None
        if package is None:
            folder = self._work_dir / "downloads"
            folder.mkdir(parents=True, exist_ok=True)

            try:
                archive = controller.download_package(folder, progress=progress_emitter(self._bus, "package"))
                try:
                    package = self._packages.prepare(archive, expected_checksum=checksum)
                finally:
                    archive.unlink(missing_ok=True)
            except Exception as exc:
                if is_disk_full(exc) and not isinstance(exc, DiskFull):
                    raise DiskFull("the compute package", full_file(exc) or folder) from exc
                raise
        if checksum is None and not self._said_no_checksum:
            self._said_no_checksum = True
            self._bus.emit(
                client_line(
                    "The controller does not publish a fingerprint (SHA-256) of its compute package, as "
                    "FEDn 0.33 often does not, so the download could not be compared with it. fedgui "
                    "still runs only a version you approved, byte for byte."
                )
            )
        if pin and package.checksum.lower() != pin.lower():
            raise PackagePinMismatch(
                f"The downloaded compute package {package.checksum[:12]}… is not the pinned "
                f"{pin[:12]}…; nothing from it ran."
            )
        self._check_stop()
        self._prune(package.checksum)
        return package

    def _prune(self, current: str) -> None:
        """Drop unapproved and superseded packages from the shared cache: keep the one in use
        and every profile's last approved one (the review compares a new version with it)."""
        keep = {current, self.profile.last_approved_checksum or ""}
        if self._profile_store is not None:
            with contextlib.suppress(Exception):  # a broken profile file must not stop the session
                keep.update(p.last_approved_checksum or "" for p in self._profile_store.scan().profiles)
        try:
            removed = self._packages.prune(keep)
        except OSError as exc:
            log.warning("could not prune the package cache: %s", exc)
            return
        if removed:
            log.info("removed %d unused compute package(s) from the cache", len(removed))

"""What the wizard's pages build up together, and how it is saved at the end."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from fedgui.core.controller.client import ControllerClient
from fedgui.core.execution.environment import PythonEnvironment
from fedgui.core.package.cache import PackageCache, PreparedPackage
from fedgui.core.profile import Profile, ProfileStore, unique_name
from fedgui.core.secrets import SecretStore


@dataclass
class WizardContext:
    profile_store: ProfileStore
    secret_store: SecretStore
    profile: Profile
    token: str | None = field(default=None, repr=False)
    #: True when the token must stay in memory (no usable keyring, or the person chose so).
    session_only: bool = False
    connection_tested: bool = False
    controller_checksum: str | None = None
    #: The downloaded archive, kept until the wizard closes so the preview can reuse it.
    package_archive: Path | None = None
    package: PreparedPackage | None = None
    package_approved: bool = False
    environment: PythonEnvironment | None = None
    preview_summary: str = "not run"
    #: Files counted in the data folder on the "This computer" page (None: not counted yet).
    data_file_count: int | None = None
    package_cache: PackageCache = field(default_factory=PackageCache)
    _work_dir: Path | None = None

    def forget_package(self) -> None:
        """The network changed (another address): its package and environment must be fetched again."""
        self.package = None
        self.package_archive = None
        self.package_approved = False
        self.environment = None
        self.preview_summary = "not run"

    def controller(self, timeout: float = 10.0) -> ControllerClient:
        return ControllerClient(
            self.profile.controller_url,
            token=self.token,
            verify=self.profile.tls_verify_argument,
            timeout=timeout,
        )

    def work_dir(self) -> Path:
        if self._work_dir is None:
            self._work_dir = Path(tempfile.mkdtemp(prefix="fedgui-wizard-"))
        return self._work_dir

    def cleanup(self) -> None:
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None


def save_profile(context: WizardContext, ready: bool) -> Profile:
    """Write the profile (and the token, to the keyring or memory). Blocking: use a worker."""
    profile = context.profile
    profile.ready = ready
    others = [p.display_name for p in context.profile_store.list() if p.id != profile.id]
    profile.display_name = unique_name(profile.display_name, others)
    if context.token:
        context.secret_store.set_token(profile.id, context.token, session_only=context.session_only)
    context.profile_store.save(profile)
    return profile


def display_name_for(url: str) -> str:
    """A readable default name for a profile: the network's host name (the port is a detail)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url if "://" in url else f"//{url}")
    return f"FEDn at {parts.hostname or url}"

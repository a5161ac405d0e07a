"""Fixtures for the wizard and review tests (imported by them; tests/gui/conftest.py is not ours).

Stores live in the per-test FEDGUI_HOME (tests/conftest.py). ``trusted_secret_store`` is a
SecretStore over an in-memory keyring that passes fedgui's "trusted backend" check, so tests
can tell a keyring save from a session-only one without a real Secret Service.
"""

from __future__ import annotations

from pathlib import Path

import keyring.backend
import keyring.backends.fail
import pytest

from fedgui.core.package.cache import PackageCache
from fedgui.core.profile import ProfileStore
from fedgui.core.secrets import SecretStore
from fedgui.gui.threads import wait_for_background_work
from tests.fednet.packages import write_package_archive


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.passwords.pop((service, username), None)


# fedgui trusts backends by module; pretend to be a Secret Service one (memory only, test only).
MemoryKeyring.__module__ = "keyring.backends.SecretService.memory_for_tests"


@pytest.fixture
def profile_store(isolated_fedgui_home) -> ProfileStore:
    return ProfileStore(Path(isolated_fedgui_home) / "profiles")


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def trusted_secret_store(memory_keyring) -> SecretStore:
    return SecretStore(backend=memory_keyring)


@pytest.fixture
def no_keyring_store() -> SecretStore:
    return SecretStore(backend=keyring.backends.fail.Keyring())


@pytest.fixture
def package_cache(tmp_path) -> PackageCache:
    return PackageCache(tmp_path / "package-cache")


@pytest.fixture(autouse=True)
def _no_background_jobs_left():
    yield
    # A job still running after a test would call back into deleted widgets of the next one.
    assert wait_for_background_work(60_000), "a background job was still running after the test"


@pytest.fixture(autouse=True)
def _private_autostart(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


write_tgz = write_package_archive


def write_client_yaml(
    path: Path, api_url: str, api_port: int | None = None, token: str | None = None
) -> Path:
    lines = [f"api_url: {api_url}"]
    if api_port is not None:
        lines.append(f"api_port: {api_port}")
    if token:
        lines.append(f"token: {token}")
    lines += ["name: lab-computer", "network_id: fedn-network", "colour_scheme: blue"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

"""The access token must never land in a file fedgui writes, a log line, an error or a repr.

The test runs a scenario of steps that handle a token the way the app does, with the logging
module capturing everything at DEBUG into a file under FEDGUI_HOME, then scans every file under
FEDGUI_HOME (config, data, cache) and every text the steps produced for the token's bytes.

To cover more of the app (the session engine, the controller client, ...), write a function that
takes a :class:`LeakScenario`, does the work with ``scenario.token``, and decorate it with
``@leak_step``. Put texts that never reach a file (error messages, reprs, GUI strings) in
``scenario.texts``; everything under ``scenario.home`` and the log is scanned anyway.
"""

from __future__ import annotations

import base64
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from keyring.backends import fail

from fedgui.core import paths
from fedgui.core.clientconfig import ClientConfigError, ImportedClientConfig, import_client_config
from fedgui.core.errors import FedguiError
from fedgui.core.profile import Profile, ProfileError, ProfileStore
from fedgui.core.secrets import SecretStore, SecretStoreError, Token, redact

log = logging.getLogger("fedgui.tests.leaks")


@dataclass
class LeakScenario:
    home: Path  # FEDGUI_HOME
    outside: Path  # a folder of the person's own files (their client.yaml lives here)
    token: str
    secret_store: SecretStore
    #: True when the real Secret Service is there: the token is stored there, not in memory.
    real_keyring: bool
    imported: ImportedClientConfig | None = None
    profile: Profile | None = None
    #: Strings that are shown or raised but not written to a file: scanned too.
    texts: list[str] = field(default_factory=list)

    def note_error(self, error: BaseException) -> None:
        """Keep what a person or a log could see of this error, and log it with its traceback."""
        self.texts += [str(error), repr(error), *(str(arg) for arg in error.args)]
        if isinstance(error, FedguiError):
            self.texts += [error.user_text(), error.message, error.next_step]
        log.exception("step failed (expected in this test): %s", error, exc_info=error)


LEAK_STEPS: list[Callable[[LeakScenario], None]] = []


def leak_step(step: Callable[[LeakScenario], None]) -> Callable[[LeakScenario], None]:
    LEAK_STEPS.append(step)
    return step


@leak_step
def import_a_client_config_with_a_token(scenario: LeakScenario) -> None:
    path = scenario.outside / "client.yaml"
    path.write_text(
        "api_url: http://localhost\n"
        "api_port: 8092\n"
        "name: leak-check\n"
        f"token: {scenario.token}\n"
        f"refresh_token: {scenario.token}-refresh\n"
        "surprise_key: 1\n",
        encoding="utf-8",
    )
    scenario.imported = import_client_config(path)
    assert scenario.imported.token == scenario.token
    log.debug("imported %r", scenario.imported)
    log.info("import notes: %s; unknown keys: %s", scenario.imported.notes, scenario.imported.unknown_keys)
    scenario.texts += [repr(scenario.imported), *scenario.imported.notes]


@leak_step
def save_and_reload_the_profile(scenario: LeakScenario) -> None:
    assert scenario.imported is not None
    store = ProfileStore()
    path = store.save(scenario.imported.profile)
    scenario.profile = store.get(scenario.imported.profile.id)
    log.debug("saved %s as %r", path, scenario.profile)
    scenario.texts.append(repr(scenario.profile))


@leak_step
def store_and_read_the_token(scenario: LeakScenario) -> None:
    assert scenario.profile is not None and scenario.imported is not None
    secret_store = scenario.secret_store
    status = secret_store.status()
    log.debug("secret store %r: %s", secret_store, status)
    token = Token(scenario.imported.token or "")
    secret_store.set_token(scenario.profile.id, token, session_only=not scenario.real_keyring)
    assert secret_store.get_token(scenario.profile.id) == scenario.token
    assert secret_store.is_session_only(scenario.profile.id) is not scenario.real_keyring
    log.debug("token for %s is %r (%s)", scenario.profile.display_name, token, token)
    log.info(redact(f"GET /api/v1/clients/add Authorization: Bearer {scenario.token}", scenario.token))
    scenario.texts += [repr(token), str(token), f"{token}", repr(secret_store), repr(status)]


@leak_step
def errors_that_had_the_token_at_hand(scenario: LeakScenario) -> None:
    # No keyring at all: the refusal must not quote the token it refused.
    try:
        SecretStore(fail.Keyring()).set_token(str(uuid.uuid4()), scenario.token)
    except SecretStoreError as error:
        scenario.note_error(error)
    else:
        pytest.fail("a fail keyring must refuse to store")

    # Broken YAML right after the token: YAML's own error would quote that line.
    broken = scenario.outside / "broken-client.yaml"
    broken.write_text(f"api_url: http://localhost\ntoken: {scenario.token}\n  bad: [\n", encoding="utf-8")
    with pytest.raises(ClientConfigError) as caught:
        import_client_config(broken)
    scenario.note_error(caught.value)

    # A token pasted into a profile file by hand is dropped on load, and the next save removes it.
    assert scenario.profile is not None
    store = ProfileStore()
    path = store.path_for(scenario.profile.id)
    path.write_text(path.read_text(encoding="utf-8") + f"token: {scenario.token}\n", encoding="utf-8")
    store.save(store.get(scenario.profile.id))

    # A corrupt profile file that holds the token: the error names the file, not its content.
    corrupt = store.folder / f"{uuid.uuid4()}.yaml"
    corrupt.write_text(f"token: {scenario.token}\n  : [", encoding="utf-8")
    for error in store.problems():
        assert isinstance(error, ProfileError)
        scenario.note_error(error)
    corrupt.unlink()


@leak_step
def forget_the_token(scenario: LeakScenario) -> None:
    assert scenario.profile is not None
    scenario.secret_store.delete_token(scenario.profile.id)
    assert scenario.secret_store.get_token(scenario.profile.id) is None


def forms_of(token: str) -> dict[str, bytes]:
    """The token as bytes in the encodings a careless writer might use."""
    raw = token.encode()
    return {
        "plain": raw,
        "utf-16": token.encode("utf-16-le"),
        "base64": base64.b64encode(raw),
        "url-encoded": quote(token, safe="").encode(),
    }


def find_token(root: Path, token: str) -> list[str]:
    hits = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        hits += [f"{path} ({form})" for form, needle in forms_of(token).items() if needle in data]
    return hits


@pytest.fixture
def debug_log_file():
    """Everything logged during the test, at DEBUG, into a file under FEDGUI_HOME."""
    path = paths.data_dir() / "logs" / "fedgui-test.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield path
    root.removeHandler(handler)
    root.setLevel(previous_level)
    handler.close()


def test_token_never_leaks(isolated_fedgui_home, tmp_path, debug_log_file):
    # Make sure config, data and cache all exist under FEDGUI_HOME and are scanned.
    for folder in (paths.config_dir(), paths.data_dir(), paths.cache_dir()):
        assert folder.is_relative_to(isolated_fedgui_home)
    token = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiY2xpZW50In0." + uuid.uuid4().hex + "-never-leak"
    scenario = LeakScenario(
        home=isolated_fedgui_home,
        outside=tmp_path,
        token=token,
        secret_store=SecretStore(),
        real_keyring=bool(os.environ.get("FEDGUI_TEST_SECRET_SERVICE")),
    )
    for step in LEAK_STEPS:
        step(scenario)

    for handler in logging.getLogger().handlers:
        handler.flush()
    log_text = debug_log_file.read_text(encoding="utf-8")
    assert "step failed (expected in this test)" in log_text  # the log really captured the steps

    assert find_token(scenario.home, token) == []
    leaked_texts = [text for text in scenario.texts if token in text or token[:40] in text]
    assert leaked_texts == []
    # Sanity: the scan would have found it.
    canary = scenario.home / "cache" / "canary"
    canary.write_text(f"x{token}x")
    assert f"{canary} (plain)" in find_token(scenario.home, token)

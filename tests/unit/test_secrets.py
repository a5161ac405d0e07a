"""Tokens in the OS keyring: the real Secret Service, no backend, refused file stores, hangs.

The tests marked ``keyring`` talk to the gnome-keyring that ``tests/keyring_session.sh`` starts
on a private D-Bus session (``tools/test`` and ``.ci/run`` always use it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import keyring
import keyring.backend
import pytest
from keyring.backends import SecretService, chainer, fail, null

from fedgui.core import secrets
from fedgui.core.secrets import (
    NO_STORE_MESSAGE,
    SERVICE_NAME,
    SecretStore,
    SecretStoreError,
    SecretStoreUnavailable,
    Token,
    choose_trusted_backend,
    redact,
)

REPO = Path(__file__).resolve().parents[2]
needs_secret_service = pytest.mark.skipif(
    not os.environ.get("FEDGUI_TEST_SECRET_SERVICE"),
    reason="needs the private Secret Service: run through tools/test or tests/keyring_session.sh",
)


def new_id() -> str:
    return str(uuid.uuid4())


class PlainFileKeyring(keyring.backend.KeyringBackend):
    """A real backend that writes secrets to a plain file, like keyrings.alt's PlaintextKeyring."""

    priority = 1

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def _load(self) -> dict:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_password(self, service, username):
        return self._load().get(f"{service}/{username}")

    def set_password(self, service, username, password):
        data = self._load()
        data[f"{service}/{username}"] = password
        self.path.write_text(json.dumps(data))

    def delete_password(self, service, username):
        data = self._load()
        data.pop(f"{service}/{username}", None)
        self.path.write_text(json.dumps(data))


# --- the real Secret Service --------------------------------------------------------------------


@pytest.mark.keyring
@needs_secret_service
def test_secret_service_is_usable_and_stores_under_fedgui():
    store = SecretStore()
    status = store.status()
    assert status.usable, status.message
    assert "SecretService" in status.name

    profile_id, token = new_id(), "tok-" + uuid.uuid4().hex
    store.set_token(profile_id, token)
    try:
        assert store.get_token(profile_id) == token
        assert not store.is_session_only(profile_id)
        # Stored where other tools expect it: service "fedgui", username = profile id.
        assert SecretService.Keyring().get_password(SERVICE_NAME, profile_id) == token
        # A second SecretStore (a restart of fedgui) still finds it.
        assert SecretStore().get_token(profile_id) == token
    finally:
        store.delete_token(profile_id)
    assert store.get_token(profile_id) is None
    store.delete_token(profile_id)  # forgetting twice is fine


@pytest.mark.keyring
@needs_secret_service
def test_session_only_token_never_reaches_the_keyring():
    store = SecretStore()
    profile_id, token = new_id(), "tok-" + uuid.uuid4().hex
    store.set_token(profile_id, token, session_only=True)
    assert store.get_token(profile_id) == token
    assert store.is_session_only(profile_id)
    assert SecretService.Keyring().get_password(SERVICE_NAME, profile_id) is None
    assert SecretStore().get_token(profile_id) is None  # gone after a "restart"

    # Remembering it later replaces the in-memory copy.
    store.set_token(profile_id, Token(token))
    try:
        assert not store.is_session_only(profile_id)
        assert SecretStore().get_token(profile_id) == token
    finally:
        store.delete_token(profile_id)


@pytest.mark.keyring
@needs_secret_service
def test_chainer_uses_its_trusted_member_and_never_the_file(tmp_path):
    file_store = PlainFileKeyring(tmp_path / "plain.json")

    class FileThenSecretService(chainer.ChainerBackend):
        backends = (file_store, SecretService.Keyring())

    store = SecretStore(FileThenSecretService())
    assert store.status().usable
    profile_id, token = new_id(), "tok-" + uuid.uuid4().hex
    store.set_token(profile_id, token)
    try:
        assert store.get_token(profile_id) == token
        assert not file_store.path.exists()
    finally:
        store.delete_token(profile_id)


# --- no usable backend ----------------------------------------------------------------------------


@pytest.fixture
def fail_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_no_backend_offers_session_only(fail_keyring):
    store = SecretStore()
    status = store.status()
    assert not status.usable
    assert status.message == NO_STORE_MESSAGE
    profile_id, token = new_id(), "tok-" + uuid.uuid4().hex

    with pytest.raises(SecretStoreUnavailable) as caught:
        store.set_token(profile_id, token)
    assert str(caught.value) == NO_STORE_MESSAGE  # plain words, the advice said once
    assert token not in str(caught.value)
    assert store.get_token(profile_id) is None

    store.set_token(profile_id, token, session_only=True)
    assert store.get_token(profile_id) == token
    store.delete_token(profile_id)
    assert store.get_token(profile_id) is None


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_fail_and_null_backends_mean_no_store(backend):
    assert SecretStore(backend).status().message == NO_STORE_MESSAGE


def test_chainer_with_nothing_to_chain_means_no_store():
    class Empty(chainer.ChainerBackend):
        backends = ()

    assert choose_trusted_backend(Empty()) == (None, NO_STORE_MESSAGE)


def _status_in_subprocess(tmp_path: Path, **env_changes: str | None) -> dict:
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "xdg-config"), PYTHONPATH=str(REPO))
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    code = (
        "import json, dataclasses\n"
        "from fedgui.core.secrets import SecretStore\n"
        "print(json.dumps(dataclasses.asdict(SecretStore(probe_timeout=2).status())))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(result.stdout)


def test_no_dbus_session_means_no_store(tmp_path):
    status = _status_in_subprocess(
        tmp_path,
        DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path / 'no-bus-here'}",
        PYTHON_KEYRING_BACKEND=None,
    )
    assert status["usable"] is False
    if importlib.util.find_spec("keyrings.alt") is None:
        assert status["message"] == NO_STORE_MESSAGE
    else:  # the dev venv has keyrings.alt: keyring then falls back to its file store, refused too
        assert "keeps passwords in a file" in status["message"]


def test_fail_backend_chosen_by_environment(tmp_path):
    status = _status_in_subprocess(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    assert status == {"name": "fail Keyring", "usable": False, "message": NO_STORE_MESSAGE}


class WedgedBus:
    """A D-Bus that lets clients authenticate and then never answers a call, like a hung daemon.

    (A socket that never answers at all is not enough: jeepney gives up authenticating after a
    second and keyring then reports "no store". A hang after authentication has no such limit.)
    """

    def __init__(self, path: Path) -> None:
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(str(path))
        self.listener.listen(8)
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(conn)
            threading.Thread(target=self._authenticate_then_ignore, args=(conn,), daemon=True).start()

    @staticmethod
    def _authenticate_then_ignore(conn: socket.socket) -> None:
        buffer = b""
        try:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                buffer += data
                while b"\r\n" in buffer:
                    line, buffer = buffer.split(b"\r\n", 1)
                    if line.lstrip(b"\0").startswith(b"AUTH"):
                        conn.sendall(b"OK 0123456789abcdef0123456789abcdef\r\n")
                    elif line.startswith(b"NEGOTIATE_UNIX_FD"):
                        conn.sendall(b"AGREE_UNIX_FD\r\n")
                    elif line.startswith(b"BEGIN"):
                        while conn.recv(4096):  # method calls: read and never answer
                            pass
                        return
        except OSError:
            return

    def close(self) -> None:
        self.listener.close()
        for conn in self.connections:
            conn.close()


def test_hung_dbus_does_not_freeze_the_caller(tmp_path):
    bus = WedgedBus(tmp_path / "bus")
    try:
        status = _status_in_subprocess(
            tmp_path,
            DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path / 'bus'}",
            PYTHON_KEYRING_BACKEND=None,
        )
    finally:
        bus.close()
    assert status["usable"] is False
    assert "did not answer within 2 seconds" in status["message"]
    assert "memory only" in status["message"]


class BlockingKeyring(keyring.backend.KeyringBackend):
    """Answers only when released: a Secret Service waiting on an unlock prompt."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service, username):
        self.release.wait(30)
        return None

    def set_password(self, service, username, password):
        self.release.wait(30)

    def delete_password(self, service, username):
        self.release.wait(30)


def test_locked_store_times_out_with_plain_words(monkeypatch):
    # Treat this test's module as a trusted store so the probe reaches the blocking backend.
    monkeypatch.setattr(secrets, "TRUSTED_BACKEND_MODULES", (*secrets.TRUSTED_BACKEND_MODULES, __name__))
    backend = BlockingKeyring()
    store = SecretStore(backend, probe_timeout=0.2, call_timeout=0.2)
    try:
        status = store.status()
        assert not status.usable
        assert "did not answer within 0.2 seconds" in status.message
        assert "unlock" in status.message
        with pytest.raises(SecretStoreError, match="did not answer"):
            store.set_token(new_id(), "tok-secret")
    finally:
        backend.release.set()


class BrokenKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def get_password(self, service, username):
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service, username, password):
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service, username):
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


def test_backend_errors_become_plain_messages(monkeypatch):
    monkeypatch.setattr(secrets, "TRUSTED_BACKEND_MODULES", (*secrets.TRUSTED_BACKEND_MODULES, __name__))
    store = SecretStore(BrokenKeyring())
    status = store.status()
    assert not status.usable and "locked or not running" in status.message
    with pytest.raises(SecretStoreError, match=r"could not save the token \(KeyringLocked\)") as caught:
        store.set_token(new_id(), "tok-very-secret")
    assert "tok-very-secret" not in str(caught.value)
    assert caught.value.next_step


# --- file stores are refused --------------------------------------------------------------------


def test_unknown_file_store_is_refused_and_never_written(tmp_path):
    file_store = PlainFileKeyring(tmp_path / "plain.json")
    store = SecretStore(file_store)
    status = store.status()
    assert not status.usable
    assert "not one fedgui knows to keep secrets safe" in status.message
    with pytest.raises(SecretStoreUnavailable):
        store.set_token(new_id(), "tok-secret")
    assert not file_store.path.exists()


def test_keyrings_alt_plaintext_is_refused(tmp_path):
    alt_file = pytest.importorskip(
        "keyrings.alt.file", reason="keyrings.alt is not installed (it is not a fedgui dependency)"
    )
    plaintext = alt_file.PlaintextKeyring()
    plaintext.file_path = str(tmp_path / "keyring_pass.cfg")
    store = SecretStore(plaintext)
    status = store.status()
    assert not status.usable
    assert "keeps passwords in a file" in status.message
    with pytest.raises(SecretStoreUnavailable, match="keeps passwords in a file"):
        store.set_token(new_id(), "tok-secret")
    assert not Path(plaintext.file_path).exists()

    class OnlyPlaintext(chainer.ChainerBackend):
        backends = (plaintext,)

    assert "keeps passwords in a file" in SecretStore(OnlyPlaintext()).status().message


# --- redaction ------------------------------------------------------------------------------------


def test_token_hides_its_value():
    token = Token("tok-123456")
    assert "tok-123456" not in repr(token) and "tok-123456" not in str(token)
    assert "tok-123456" not in f"{token}" and "tok-123456" not in repr([token])
    assert token.reveal() == "tok-123456"
    assert token == Token("tok-123456") and bool(token) and not Token("")


def test_redact_removes_known_tokens_and_jwts():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiY2xpZW50In0.c2lnbmF0dXJl"
    line = f"Authorization: Bearer {jwt} and opaque-token-42"
    cleaned = redact(line, "opaque-token-42", None, "")
    assert jwt not in cleaned and "opaque-token-42" not in cleaned
    assert cleaned.count(secrets.REDACTED) == 2
    assert redact("nothing secret here") == "nothing secret here"
    assert "opaque-token-42" not in redact("x opaque-token-42", Token("opaque-token-42"))


def test_repr_of_the_store_makes_no_keyring_call():
    assert repr(SecretStore(fail.Keyring())) == "<SecretStore backend=fail Keyring>"
    assert repr(SecretStore()) == "<SecretStore backend=keyring default>"


def test_empty_token_is_refused(fail_keyring):
    with pytest.raises(SecretStoreError, match="empty"):
        SecretStore().set_token(new_id(), "", session_only=True)


@pytest.mark.keyring
@needs_secret_service
def test_real_locked_gnome_keyring_is_reported_not_usable(tmp_path):
    # A second, private gnome-keyring that was never unlocked (and no display for its prompt).
    (tmp_path / "run").mkdir(mode=0o700)
    env = dict(
        os.environ,
        XDG_DATA_HOME=str(tmp_path / "share"),
        XDG_RUNTIME_DIR=str(tmp_path / "run"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PYTHONPATH=str(REPO),
    )
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("PYTHON_KEYRING_BACKEND", None)
    code = (
        "import json, dataclasses\n"
        "from fedgui.core.secrets import SecretStore, SecretStoreError\n"
        "store = SecretStore(probe_timeout=5, call_timeout=5)\n"
        "status = dataclasses.asdict(store.status())\n"
        "try:\n"
        "    store.set_token('11111111-1111-1111-1111-111111111111', 'tok-locked')\n"
        "    saved = 'saved'\n"
        "except SecretStoreError as err:\n"
        "    saved = str(err)\n"
        "print(json.dumps({'status': status, 'saved': saved}))\n"
    )
    script = (
        "gnome-keyring-daemon --foreground --components=secrets >/dev/null 2>&1 & daemon=$!\n"
        'trap "kill $daemon 2>/dev/null" EXIT\n'
        "for _ in $(seq 100); do dbus-send --session --print-reply --dest=org.freedesktop.DBus / "
        "org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null "
        '| grep -q "boolean true" && break; sleep 0.1; done\n'
        f'"{sys.executable}" -c "$0"\n'
    )
    result = subprocess.run(
        ["dbus-run-session", "--", "bash", "-c", script, code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"]["usable"] is False
    assert "SecretService" in outcome["status"]["name"]
    assert "locked" in outcome["status"]["message"]
    assert outcome["saved"] != "saved" and "tok-locked" not in outcome["saved"]

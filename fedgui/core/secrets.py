"""The access token: kept in the OS password store (keyring), or in memory only, never on disk.

Only password stores that protect secrets themselves are used: Secret Service (GNOME Keyring,
KWallet's Secret Service), KWallet, macOS Keychain and Windows Credential Manager. The file
based stores of ``keyrings.alt`` and anything else unknown are refused, because a token in a
file is readable by any program running as the person. When no trusted store works, the token
can still be used for this run only (``session_only=True``); fedgui never falls back to a file.

Keyring calls go through a worker thread with a timeout: a Secret Service that is locked and
waiting for a password prompt, or a D-Bus that hangs, must not freeze the app.

Tokens must not reach logs, files, exception text or reprs. :class:`Token` hides its value in
``repr``/``str``; :func:`redact` removes a known token (and anything shaped like a JWT) from a
line of text before it is logged or shown.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import keyring
import keyring.backend
import keyring.errors

from fedgui.core.errors import FedguiError

log = logging.getLogger(__name__)

SERVICE_NAME = "fedgui"
#: A key that is only ever read, to check that the store answers. Nothing is stored under it.
PROBE_USERNAME = "fedgui-availability-check"

#: Module prefixes of keyring backends that keep secrets in a protected OS store.
TRUSTED_BACKEND_MODULES = (
    "keyring.backends.SecretService",
    "keyring.backends.libsecret",
    "keyring.backends.kwallet",
    "keyring.backends.macOS",
    "keyring.backends.Windows",
)
#: Backends that only pretend to store (fail/null): they mean "there is no store".
NO_STORE_BACKEND_MODULES = ("keyring.backends.fail", "keyring.backends.null")
#: Backends that write secrets to files (plaintext or with a key kept beside them).
FILE_BACKEND_MODULES = ("keyrings.alt", "keyrings.cryptfile")

NO_STORE_MESSAGE = (
    "No password store (keyring) is available on this computer, so fedgui cannot remember your "
    "token. You can enter the token each time you start; it will be kept in memory only until "
    "fedgui closes. To have it remembered, install and unlock a keyring such as GNOME Keyring "
    "or KWallet."
)
REDACTED = "[token hidden]"

T = TypeVar("T")


class SecretStoreError(FedguiError):
    """The password store failed while reading, saving or deleting a token."""

    default_next_step = (
        "Make sure your keyring (for example GNOME Keyring or KWallet) is running and unlocked, "
        "then try again."
    )


class SecretStoreUnavailable(SecretStoreError):
    """No usable password store: the token can only be kept for this session."""

    default_next_step = (
        "Enter the token when you start instead; it will be kept in memory until fedgui closes. "
        "To have it remembered, install and unlock a keyring such as GNOME Keyring or KWallet."
    )


@dataclass(frozen=True)
class SecretBackendStatus:
    """Which password store is in use and whether fedgui can use it, in words for the person."""

    name: str
    usable: bool
    message: str


class Token:
    """A secret string that prints as ``[token hidden]``; call :meth:`reveal` where it is needed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Token({REDACTED})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Token) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


# Three base64url parts separated by dots, the first starting like a JSON header: a JWT.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")


def redact(text: str, *secrets: str | Token | None) -> str:
    """``text`` with every given secret, and anything that looks like a JWT, replaced."""
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Token) else secret
        if value:
            text = text.replace(value, REDACTED)
    return _JWT.sub(REDACTED, text)


class SecretStore:
    """Tokens per profile id: in the OS keyring when one is usable, else in memory for this run."""

    def __init__(
        self,
        backend: keyring.backend.KeyringBackend | None = None,
        probe_timeout: float = 3.0,
        call_timeout: float = 60.0,
    ) -> None:
        # None: ask keyring for its current default each time (it honours keyring.set_keyring,
        # PYTHON_KEYRING_BACKEND and the keyring config file).
        self._backend = backend
        self.probe_timeout = probe_timeout
        # Longer than the probe: saving may wait for the person to type an unlock password.
        self.call_timeout = call_timeout
        self._session_tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        # No keyring call here: a repr must never block on D-Bus.
        chosen = backend_name(self._backend) if self._backend is not None else "keyring default"
        return f"<SecretStore backend={chosen}>"

    # --- status ----------------------------------------------------------------------------

    def status(self) -> SecretBackendStatus:
        """Which store is in use and whether it works right now (asks it, with a short timeout)."""
        backend, name, problem = self._resolve()
        if backend is None:
            return SecretBackendStatus(name, False, problem)
        try:
            _call_with_timeout(
                lambda: backend.get_password(SERVICE_NAME, PROBE_USERNAME), self.probe_timeout, "check"
            )
        except TimeoutError:
            return SecretBackendStatus(name, False, _not_answering_message(name, self.probe_timeout))
        except Exception as err:  # any backend failure means "not usable"; the reason is logged
            log.info("Password store %s failed its check: %s", name, err.__class__.__name__)
            return SecretBackendStatus(
                name,
                False,
                f"The password store ({name}) is not working: it may be locked or not running. "
                + _SESSION_ONLY_HINT,
            )
        return SecretBackendStatus(name, True, f"Your token is kept in the password store ({name}).")

    # --- tokens ----------------------------------------------------------------------------

    def get_token(self, profile_id: str) -> str | None:
        """The token for this profile: a session-only one first, else the keyring's, else None."""
        with self._lock:
            if profile_id in self._session_tokens:
                return self._session_tokens[profile_id]
        backend, name, _problem = self._resolve()
        if backend is None:
            return None
        return self._keyring_call(lambda: backend.get_password(SERVICE_NAME, profile_id), name, "read")

    def set_token(self, profile_id: str, token: str | Token, session_only: bool = False) -> None:
        """Remember the token: in the keyring, or (``session_only``) in memory until fedgui closes.

        Raises :class:`SecretStoreUnavailable` when no usable keyring exists and
        ``session_only`` is false; there is no fallback to a file.
        """
        value = token.reveal() if isinstance(token, Token) else token
        if not value:
            raise SecretStoreError("The token is empty.", "Paste the whole token and try again.")
        if session_only:
            with self._lock:
                self._session_tokens[profile_id] = value
            return
        backend, name, problem = self._resolve()
        if backend is None:
            # The problem text already ends with what to do, so no second next step.
            raise SecretStoreUnavailable(problem, next_step="")
        self._keyring_call(lambda: backend.set_password(SERVICE_NAME, profile_id, value), name, "save")
        with self._lock:
            # A remembered token replaces a session-only one, so both never disagree.
            self._session_tokens.pop(profile_id, None)

    def delete_token(self, profile_id: str) -> None:
        """Forget the token everywhere (memory and keyring). Forgetting a missing token is fine."""
        with self._lock:
            self._session_tokens.pop(profile_id, None)
        backend, name, _problem = self._resolve()
        if backend is None:
            return

        def delete() -> None:
            # Deleting a token that was never stored is not an error.
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                backend.delete_password(SERVICE_NAME, profile_id)

        self._keyring_call(delete, name, "delete")

    def is_session_only(self, profile_id: str) -> bool:
        """True if this profile's token is held in memory only (it will be gone after a restart)."""
        with self._lock:
            return profile_id in self._session_tokens

    # --- internals -------------------------------------------------------------------------

    def _resolve(self) -> tuple[keyring.backend.KeyringBackend | None, str, str]:
        """(trusted backend or None, its name, why not usable).

        Done on the worker thread too: keyring's first ``get_keyring()`` asks D-Bus which stores
        exist, and that can hang just like a password lookup.
        """

        def choose() -> tuple[keyring.backend.KeyringBackend | None, str, str]:
            current = self._backend if self._backend is not None else keyring.get_keyring()
            backend, problem = choose_trusted_backend(current)
            return backend, backend_name(backend if backend is not None else current), problem

        try:
            return _call_with_timeout(choose, self.probe_timeout, "find")
        except TimeoutError:
            return None, "unknown", _not_answering_message("D-Bus", self.probe_timeout)
        except Exception as err:
            log.info("Could not find a password store: %s", err.__class__.__name__)
            return None, "unknown", NO_STORE_MESSAGE

    def _keyring_call(self, call: Callable[[], T], name: str, what: str) -> T:
        try:
            return _call_with_timeout(call, self.call_timeout, what)
        except TimeoutError:
            raise SecretStoreError(
                f"The password store ({name}) did not answer within {self.call_timeout:g} seconds "
                f"when fedgui tried to {what} the token."
            ) from None
        except Exception as err:
            # Keyring error texts come from the backend; they name no secret, but we keep only the
            # class name in the message to be sure.
            raise SecretStoreError(
                f"The password store ({name}) could not {what} the token ({err.__class__.__name__})."
            ) from err


def _not_answering_message(name: str, seconds: float) -> str:
    return (
        f"The password store ({name}) did not answer within {seconds:g} seconds. It may be locked "
        "and waiting for you to unlock it, or not running properly. " + _SESSION_ONLY_HINT
    )


_SESSION_ONLY_HINT = (
    "Until it works, you can enter the token each time you start; it will be kept in memory only "
    "until fedgui closes."
)


def backend_name(backend: keyring.backend.KeyringBackend) -> str:
    """A readable name such as ``SecretService Keyring`` (keyring's own ``name``)."""
    try:
        return str(backend.name)
    except Exception:
        return type(backend).__name__


def choose_trusted_backend(
    backend: keyring.backend.KeyringBackend,
) -> tuple[keyring.backend.KeyringBackend | None, str]:
    """The backend to use (or None) and, if None, why, in plain words.

    A chainer (keyring's "try all of them" backend) is not used as is: it would also read from
    and write to a file store if one is installed. We take its best trusted member instead.
    """
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        members = list(backend.backends)
        trusted = [member for member in members if _is_trusted(member)]
        if trusted:
            return trusted[0], ""
        refused = [member for member in members if _is_file_store(member)]
        if refused:
            return None, _file_store_message(refused[0])
        return None, NO_STORE_MESSAGE
    if _is_trusted(backend):
        return backend, ""
    if _is_file_store(backend):
        return None, _file_store_message(backend)
    if _module(backend).startswith(NO_STORE_BACKEND_MODULES):
        return None, NO_STORE_MESSAGE
    return None, (
        f"The password store configured on this computer ({backend_name(backend)}) is not one fedgui "
        "knows to keep secrets safe, so fedgui will not use it. " + _SESSION_ONLY_HINT
    )


def _module(backend: keyring.backend.KeyringBackend) -> str:
    return type(backend).__module__


def _is_trusted(backend: keyring.backend.KeyringBackend) -> bool:
    return _module(backend).startswith(TRUSTED_BACKEND_MODULES)


def _is_file_store(backend: keyring.backend.KeyringBackend) -> bool:
    return _module(backend).startswith(FILE_BACKEND_MODULES)


def _file_store_message(backend: keyring.backend.KeyringBackend) -> str:
    return (
        f"The password store configured on this computer ({backend_name(backend)}) keeps passwords in a "
        "file, where other programs could read them, so fedgui will not use it. " + _SESSION_ONLY_HINT
    )


def _call_with_timeout(call: Callable[[], T], timeout: float, what: str) -> T:
    """Run ``call`` on a daemon thread and wait at most ``timeout`` seconds.

    A hung D-Bus call cannot be cancelled; the daemon thread is abandoned and ends with the
    process, which beats freezing the window that asked.
    """
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as err:
            outcome["error"] = err

    worker = threading.Thread(target=run, name=f"fedgui-keyring-{what}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"keyring {what} timed out")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]

"""Import a FEDn client configuration file (``client.yaml``) as a fedgui profile.

Reads the keys of FEDn 0.33's ``fedn client start -in client.yaml`` and of older files
(``discover_host``/``discover_port``, ``force_ssl``, ``verify``, ...), including FEDn Studio's
``discover_host: <host>/<project>-fedn-reducer`` form, where the part after the host is a path
prefix. Every key is accounted for: used, listed in ``notes`` as known but not used, or listed in
``unknown_keys``. Nothing is dropped silently.

The token comes back separately: it goes to the keyring, never into the profile file. Notes and
errors name keys, never their values, because a value may be a secret (``refresh_token``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from fedgui.core.errors import FedguiError
from fedgui.core.profile import Profile

#: Keys FEDn 0.33 and older clients understand but fedgui does not use, with the reason.
IGNORED_KEYS: dict[str, str] = {
    "network_id": "only old FEDn versions used it",
    "refresh_token": "FEDn 0.33 does not use it either; fedgui did not store it",
    "secure": "fedgui decides TLS from the controller's answer, as FEDn 0.33 does",
    "preshared_cert": "old FEDn setting; use a CA bundle in the profile's connection settings",
    "proxy_server": "old FEDn setting, not supported",
    "logfile": "fedgui keeps its own logs",
    "heartbeat_interval": "fedgui uses FEDn's standard heartbeat",
    "reconnect_after_missed_heartbeat": "fedgui reconnects on its own",
    "verbosity": "fedgui keeps its own logs",
    "remote_compute_context": "old FEDn setting, not supported",
    "validator": "has no effect in FEDn 0.33",
    "trainer": "has no effect in FEDn 0.33",
    "combiner": "a direct combiner connection is not used: fedgui asks the controller which combiner to use",
    "combiner_port": "a direct combiner connection is not used: fedgui asks the controller",
}

_USED_KEYS = {
    "api_url",
    "api_port",
    "discover_host",
    "discover_port",
    "token",
    "name",
    "client_id",
    "preferred_combiner",
    "package_checksum",
    "helper_type",
    "force_ssl",
    "verify",
}

#: Said when the file has no client_id (true for an imported profile, which is saved and keeps it).
GENERATED_CLIENT_ID_NOTE = "The file has no client_id, so fedgui made one; it stays the same from now on."

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: A real client.yaml is a few hundred bytes (a token included). Larger files are refused before
#: they are read: a YAML parser needs many times a file's size in memory and time.
MAX_CONFIG_BYTES = 1_000_000


class ClientConfigError(FedguiError):
    """The client configuration file cannot be used; the message names the file (and line)."""

    default_next_step = (
        "Ask the network's operator for a fresh client configuration file, or enter the "
        "controller address by hand in the connection wizard."
    )

    def __init__(
        self, message: str, next_step: str | None = None, path: Path | None = None, line: int | None = None
    ) -> None:
        super().__init__(message, next_step)
        self.path = path
        self.line = line


@dataclass
class ImportedClientConfig:
    """A profile built from a client config, plus what the person should know about the import."""

    profile: Profile
    #: The access token, if the file had one. Hidden from repr so it can't reach a log by accident.
    token: str | None = field(default=None, repr=False)
    #: Top-level keys fedgui does not know at all (names only).
    unknown_keys: list[str] = field(default_factory=list)
    #: Plain sentences about keys that were understood but not used, or adjusted.
    notes: list[str] = field(default_factory=list)
    #: The file had no client_id / no name, so the profile carries newly made ones.
    client_id_generated: bool = False
    name_generated: bool = False


def import_client_config(path: Path | str) -> ImportedClientConfig:
    """Read a FEDn ``client.yaml`` and turn it into an (unsaved) :class:`Profile`."""
    path = Path(path)
    try:
        with path.open("rb") as handle:  # never more than the limit, even if the file grows
            raw = handle.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ClientConfigError(
                f"The file {path} is larger than {MAX_CONFIG_BYTES // 1_000_000} MB: far too large for a "
                "client configuration file (those are a few hundred bytes), so fedgui did not read it.",
                "Check that you chose the right file; ask the network's operator for the client "
                "configuration file if you do not have it.",
                path,
            )
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ClientConfigError(
            f"fedgui could not read the client configuration file {path} ({err.__class__.__name__}).",
            "Check that the file exists and that you may read it, then try again.",
            path,
        ) from err
    data, lines = _parse(text, path)
    return _build(data, lines, path)


def build_controller_url(host: str, port: int | None = None, force_ssl: bool | None = None) -> str:
    """The controller's base URL as FEDn builds it, but normalized.

    FEDn adds ``http://`` to a scheme-less address on localhost and ``https://`` elsewhere, then
    appends ``:port``. We do the same, let an explicit ``force_ssl`` choose the scheme (as old
    FEDn did), put the port on the host rather than after a Studio path prefix, and return
    ``scheme://host[:port][/prefix]`` without trailing or doubled slashes.
    """
    host = host.strip()
    if "://" not in host:
        bare_host = urlsplit("//" + host).hostname or ""
        if force_ssl is not None:
            scheme = "https" if force_ssl else "http"
        else:
            scheme = "http" if bare_host in _LOCAL_HOSTS else "https"
        host = f"{scheme}://{host}"
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) address: {host}")
    scheme = "https" if force_ssl else parts.scheme
    netloc_host = parts.hostname
    if ":" in netloc_host:  # IPv6 literal
        netloc_host = f"[{netloc_host}]"
    if parts.port is not None and port is not None and parts.port != port:
        raise ValueError(f"the address already has port {parts.port} but the port setting says {port}")
    final_port = port if port is not None else parts.port
    netloc = f"{netloc_host}:{final_port}" if final_port is not None else netloc_host
    prefix = "/".join(piece for piece in parts.path.split("/") if piece)
    return f"{scheme}://{netloc}" + (f"/{prefix}" if prefix else "")


# --- parsing ---------------------------------------------------------------------------------


def _parse(text: str, path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The mapping and the 1-based line of each top-level key (for error messages)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else None
        where = f" at line {line}" if line else ""
        raise ClientConfigError(
            f"The client configuration file {path} is not valid YAML{where}.",
            "Open it in a text editor and compare it with the file you were sent, or ask the "
            "network's operator for a fresh one.",
            path,
            line,
        ) from None  # the YAML error quotes the line, which may hold the token
    if not isinstance(data, dict):
        line = node.start_mark.line + 1 if node is not None else 1
        raise ClientConfigError(
            f"The client configuration file {path} does not contain settings "
            f"(expected lines such as “api_url: https://…”, found something else at line {line}).",
            None,
            path,
            line,
        )
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _value in node.value:
            lines[str(key_node.value)] = key_node.start_mark.line + 1
    return {str(k): v for k, v in data.items()}, lines


def _build(data: dict[str, Any], lines: dict[str, int], path: Path) -> ImportedClientConfig:
    def fail(key: str, what: str) -> ClientConfigError:
        line = lines.get(key)
        where = f" at line {line}" if line else ""
        return ClientConfigError(f"In the client configuration file {path}{where}, {what}.", None, path, line)

    notes: list[str] = []
    host_key = "discover_host" if _present(data, "discover_host") else "api_url"
    port_key = "discover_port" if _present(data, "discover_port") else "api_port"
    if host_key == "discover_host" and _present(data, "api_url"):
        notes.append("Both discover_host and api_url are set; discover_host was used, as FEDn does.")
    if port_key == "discover_port" and _present(data, "api_port"):
        notes.append("Both discover_port and api_port are set; discover_port was used, as FEDn does.")
    if not _present(data, host_key):
        raise ClientConfigError(
            f"The client configuration file {path} does not say where the controller is "
            "(it has neither api_url nor discover_host).",
            "Add a line such as “api_url: https://controller.example.org”, or ask the network's "
            "operator for a complete file.",
            path,
        )

    port = _port(data.get(port_key), lambda what: fail(port_key, what), port_key)
    force_ssl = _flag(data, "force_ssl", fail)
    try:
        controller_url = build_controller_url(str(data[host_key]), port, force_ssl)
    except ValueError as err:
        raise fail(host_key, f"the controller address {host_key} cannot be used: {err}") from None
    if force_ssl is not None:
        notes.append(
            f"force_ssl is {str(force_ssl).lower()}, so the address uses {controller_url.split(':')[0]}."
        )

    verify = _flag(data, "verify", fail)
    token = _optional_str(data.get("token"))
    name = _optional_str(data.get("name"))
    client_name = name or f"client{uuid.uuid4().hex[:8]}"
    client_id = _optional_str(data.get("client_id"))
    if client_id is None:
        notes.append(GENERATED_CLIENT_ID_NOTE)
    pin = _optional_str(data.get("package_checksum"))
    if pin is not None:
        pin = pin.lower()
        if not _SHA256.match(pin):
            raise fail(
                "package_checksum", "package_checksum is not a SHA-256 checksum (64 hexadecimal characters)"
            )

    profile = Profile.new(
        display_name=name or urlsplit(controller_url).hostname or controller_url,
        controller_url=controller_url,
        client_name=client_name,
        client_id=client_id,
        preferred_combiner=_optional_str(data.get("preferred_combiner")) or "",
        tls_verify=True if verify is None else verify,
        package_checksum_pin=pin,
        helper_type=_optional_str(data.get("helper_type")),
    )
    if verify is False:
        notes.append(
            "verify is false: fedgui will not check the controller's certificate. Turn it on if you can."
        )
    for key in sorted(data):
        if key in IGNORED_KEYS:
            notes.append(f"{key} is not used ({IGNORED_KEYS[key]}).")
    unknown = sorted(key for key in data if key not in _USED_KEYS and key not in IGNORED_KEYS)
    return ImportedClientConfig(
        profile=profile,
        token=token,
        unknown_keys=unknown,
        notes=notes,
        client_id_generated=client_id is None,
        name_generated=name is None,
    )


def _present(data: dict[str, Any], key: str) -> bool:
    return data.get(key) not in (None, "")


def _optional_str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _port(value: Any, fail: Any, key: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise fail(f"{key} should be a port number")
    try:
        port = int(str(value).strip())
    except ValueError:
        raise fail(f"{key} should be a port number") from None
    if not 0 < port < 65536:
        raise fail(f"{key} should be a port number between 1 and 65535")
    return port


def _flag(data: dict[str, Any], key: str, fail: Any) -> bool | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise fail(key, f"{key} should be true or false")

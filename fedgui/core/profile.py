"""Connection profiles: which FEDn network this computer joins, as whom, and with which local data.

One YAML file per profile in ``config_dir()/profiles/<id>.yaml``, written atomically. The access
token is *not* part of a profile: it lives in the OS keyring under the profile id
(:mod:`fedgui.core.secrets`).

Stored files carry ``schema_version``. Older files are brought up to date on load by
:data:`UPGRADE_STEPS` (Picard-style: step ``n`` turns version ``n`` into ``n + 1``), so a
change of format is one small, testable function and never a rewrite of the loader.

Keys that this version does not know are kept in :attr:`Profile.extra` and written back on save.
Why: a newer fedgui may add settings; if the person opens the profile with an older fedgui
(a downgrade, or two installs), saving it must not silently throw those settings away. Secret
looking keys are the exception: they are dropped, so a token pasted into the file by hand
leaves it at the next save.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fedgui.core import paths
from fedgui.core.errors import FedguiError
from fedgui.core.fileio import atomic_write_text, exclusive_file_lock
from fedgui.core.package.permissions import NO_EXTRA_PERMISSIONS, PackagePermissions

log = logging.getLogger(__name__)

#: The version this fedgui writes. Bump it together with a new entry in UPGRADE_STEPS.
SCHEMA_VERSION = 1

#: Keys that would hold a secret. They must never be stored in a profile file.
SECRET_KEYS = frozenset({"token", "refresh_token", "access_token", "password", "api_token"})


class ProfileError(FedguiError):
    """A profile could not be read, found or saved."""

    default_next_step = "Check the profile in Settings, or create it again with the connection wizard."

    def __init__(self, message: str, next_step: str | None = None, path: Path | None = None) -> None:
        super().__init__(message, next_step)
        self.path = path


class ProfileNotFound(ProfileError):
    default_next_step = "Choose another profile, or create one with the connection wizard."


class ProfileNameTaken(ProfileError):
    default_next_step = "Choose a different name for this connection."


@dataclass
class Profile:
    """Everything fedgui needs to take part in one FEDn network, except the token."""

    id: str
    display_name: str
    controller_url: str
    client_name: str
    client_id: str
    data_folder: Path | None = None
    preferred_combiner: str = ""
    tls_verify: bool = True
    #: Refuse to connect (and to send the token) unless the controller and combiner use TLS.
    require_tls: bool = False
    ca_bundle: Path | None = None
    #: Extra environment variables for the compute package's entry points. Left out of repr:
    #: people put credentials for their own data sources here.
    extra_env: dict[str, str] = field(default_factory=dict, repr=False)
    #: Interpreter used to build package environments; None means "find one".
    base_python: str | None = None
    #: SHA-256 of every package the person approved for this profile.
    approved_checksums: list[str] = field(default_factory=list)
    last_approved_checksum: str | None = None
    #: What an approved version may do beyond the isolation (network, extra folders), by its
    #: SHA-256: a new version gets none of it until the person allows it again.
    package_permissions: dict[str, PackagePermissions] = field(default_factory=dict)
    #: The person agreed that packages run with their rights on a computer that cannot isolate them.
    run_unisolated_agreed: bool = False
    #: From a client config's ``package_checksum``: only this package may run.
    package_checksum_pin: str | None = None
    helper_type: str | None = None
    #: True once the wizard finished (data folder chosen, connection tested).
    ready: bool = False
    log_retention_days: int = 30
    #: Threads an entry point may use (OMP/MKL/torch); None means no limit.
    cpu_thread_limit: int | None = None
    #: "auto" (let the package decide), "none" (hide GPUs), or a device index such as "0".
    gpu: str = "auto"
    #: How long one step of a task may run; None: the network's round time limit (step_limit.py).
    step_time_limit_minutes: int | None = None
    #: The largest compute package or model fedgui downloads, in MB; None: download_limit.py's default.
    download_limit_mb: int | None = None
    #: Keys from a newer fedgui, kept so that saving here does not lose them.
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def new(
        cls,
        display_name: str,
        controller_url: str,
        client_name: str | None = None,
        client_id: str | None = None,
        **settings: Any,
    ) -> Profile:
        """A fresh profile with its own id and a client id that stays with it for good.

        FEDn's own client makes a new client id at every start unless one is configured, which
        makes the network see a new client each time; we make it once and keep it.
        """
        return cls(
            id=str(uuid.uuid4()),
            display_name=display_name,
            controller_url=controller_url,
            client_name=client_name or display_name,
            client_id=client_id or str(uuid.uuid4()),
            **settings,
        )

    @property
    def tls_verify_argument(self) -> bool | str:
        """What ``requests`` takes as ``verify``: False, True, or the path of the CA bundle."""
        if not self.tls_verify:
            return False
        return str(self.ca_bundle) if self.ca_bundle else True

    def approve(self, checksum: str, permissions: PackagePermissions | None = None) -> None:
        """Remember that the person approved the package with this SHA-256 (and, if given, what
        they allowed it beyond the isolation; None keeps what was stored)."""
        checksum = checksum.lower()
        if checksum not in self.approved_checksums:
            self.approved_checksums.append(checksum)
        self.last_approved_checksum = checksum
        if permissions is not None:
            self.set_permissions(checksum, permissions)

    def permissions_for(self, checksum: str) -> PackagePermissions:
        """What this exact version may do beyond the isolation (nothing unless allowed)."""
        return self.package_permissions.get(checksum.lower(), NO_EXTRA_PERMISSIONS)

    def set_permissions(self, checksum: str, permissions: PackagePermissions) -> None:
        if permissions.is_default:
            self.package_permissions.pop(checksum.lower(), None)
        else:
            self.package_permissions[checksum.lower()] = permissions


_PATH_FIELDS = {"data_folder", "ca_bundle"}
_FIELD_NAMES = [f.name for f in dataclasses.fields(Profile) if f.name != "extra"]
_REQUIRED = {"id", "display_name", "controller_url", "client_name", "client_id"}


# --- schema upgrades -------------------------------------------------------------------------


def _upgrade_v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v0 (prototype files, no ``schema_version``) used FEDn-like key names.

    ``name`` was the display name, ``api_url`` + ``api_port`` the controller, ``verify`` the TLS
    switch and ``data_path`` the data folder; ``client_id`` could be missing.
    """
    data = dict(data)
    data.setdefault("display_name", data.pop("name", None))
    url = data.pop("api_url", None)
    port = data.pop("api_port", None)
    if "controller_url" not in data and url:
        url = str(url).rstrip("/")
        data["controller_url"] = f"{url}:{port}" if port else url
    if "verify" in data:
        data.setdefault("tls_verify", bool(data.pop("verify")))
    if "data_path" in data:
        data.setdefault("data_folder", data.pop("data_path"))
    data.setdefault("client_name", data.get("display_name"))
    if not data.get("client_id"):
        data["client_id"] = str(uuid.uuid4())
    return data


#: UPGRADE_STEPS[n] turns a version-n dict into a version-(n + 1) dict.
UPGRADE_STEPS: list[Callable[[dict[str, Any]], dict[str, Any]]] = [_upgrade_v0_to_v1]
assert len(UPGRADE_STEPS) == SCHEMA_VERSION, "every schema version needs its upgrade step"


def upgrade_profile_data(
    data: dict[str, Any],
    steps: list[Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Run the upgrade steps from the file's version up to the current one.

    A file from a *newer* fedgui is left as it is (its version is kept, see the module notes).
    """
    steps = UPGRADE_STEPS if steps is None else steps
    version = data.get("schema_version", 0)
    if not isinstance(version, int) or version < 0:
        raise ValueError(f"schema_version must be a whole number, not {version!r}")
    for step_index in range(version, len(steps)):
        data = steps[step_index](data)
        data["schema_version"] = step_index + 1
    return data


# --- conversion between Profile and plain data -------------------------------------------------


def profile_to_data(profile: Profile) -> dict[str, Any]:
    """The dict written to YAML: known fields in a stable order, then kept unknown keys."""
    data: dict[str, Any] = {"schema_version": max(SCHEMA_VERSION, profile.extra.get("schema_version", 0))}
    for name in _FIELD_NAMES:
        value = getattr(profile, name)
        if name in _PATH_FIELDS and value is not None:
            value = str(value)
        elif name == "package_permissions":
            value = {checksum: permissions.to_data() for checksum, permissions in value.items()}
        elif isinstance(value, (list, dict)):
            value = type(value)(value)
        data[name] = value
    for key, value in profile.extra.items():
        if key not in data and key not in SECRET_KEYS:
            data[key] = value
    return data


def profile_from_data(data: dict[str, Any]) -> Profile:
    """Build a Profile from an upgraded dict; raises ValueError naming the bad field."""
    missing = sorted(k for k in _REQUIRED if not data.get(k))
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        if key in SECRET_KEYS:
            # Never carried along; the next save removes it from the file.
            log.warning(
                "Ignoring a secret-looking key %r in a profile file; tokens belong in the keyring.", key
            )
        elif key in _FIELD_NAMES:
            values[key] = _check_field(key, value)
        elif key == "schema_version":
            if value > SCHEMA_VERSION:
                extra[key] = value
        else:
            extra[key] = value
    return Profile(**values, extra=extra)


def _check_field(name: str, value: Any) -> Any:
    """Type-check one stored field so a hand-edited mistake is reported, not carried along."""
    if name in _PATH_FIELDS:
        return None if value in (None, "") else Path(_expect(name, value, str))
    if name in {"tls_verify", "ready", "require_tls", "run_unisolated_agreed"}:
        return _expect(name, value, bool)
    if name == "extra_env":
        env = _expect(name, value or {}, dict)
        return {str(k): str(v) for k, v in env.items()}
    if name == "package_permissions":
        stored = _expect(name, value or {}, dict)
        return {str(k).lower(): PackagePermissions.from_data(v) for k, v in stored.items()}
    if name == "approved_checksums":
        return [str(c).lower() for c in _expect(name, value or [], list)]
    if name == "log_retention_days":
        return _expect(name, value, int)
    if name in {"cpu_thread_limit", "step_time_limit_minutes", "download_limit_mb"}:
        return None if value is None else _expect(name, value, int)
    if name in {"base_python", "last_approved_checksum", "package_checksum_pin", "helper_type"}:
        return None if value is None else str(value)
    return "" if value is None else str(value)


def _expect(name: str, value: Any, kind: type) -> Any:
    # bool is an int in Python; a "retention: true" typo must not pass as 1 day.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{name} should be {kind.__name__}, not {value!r}")
    return value


# --- the store ---------------------------------------------------------------------------------


@dataclass
class ProfileScan:
    """What a folder of profiles holds: the ones that load, and an error for each that doesn't."""

    profiles: list[Profile]
    broken: list[ProfileError]


_WRITE_LOCK = threading.Lock()


class ProfileStore:
    """The profiles of this computer's user, one YAML file each."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder else paths.config_dir() / "profiles"

    def path_for(self, profile_id: str) -> Path:
        return self.folder / f"{_checked_id(profile_id)}.yaml"

    def scan(self) -> ProfileScan:
        """Load every profile; a broken file is reported, never allowed to hide the others."""
        profiles: list[Profile] = []
        broken: list[ProfileError] = []
        for path in sorted(self.folder.glob("*.yaml")) if self.folder.is_dir() else []:
            try:
                profiles.append(self.load_file(path))
            except ProfileError as err:
                log.warning("%s", err)
                broken.append(err)
        profiles.sort(key=lambda p: p.display_name.casefold())
        return ProfileScan(profiles, broken)

    def list(self) -> list[Profile]:
        """Profiles that load, sorted by name. Use :meth:`scan` to learn about broken files."""
        return self.scan().profiles

    def problems(self) -> builtins.list[ProfileError]:
        """One error per profile file that could not be read."""
        return self.scan().broken

    def get(self, id_or_name: str) -> Profile:
        """The profile with this id, or else with this name (case does not matter)."""
        if _is_uuid(id_or_name):
            path = self.path_for(id_or_name)
            if path.exists():
                return self.load_file(path)
        wanted = id_or_name.casefold()
        for profile in self.list():
            if profile.display_name.casefold() == wanted:
                return profile
        raise ProfileNotFound(f"There is no connection profile called “{id_or_name}”.")

    def save(self, profile: Profile) -> Path:
        """Write the profile atomically; its name must not be used by another profile."""
        if not profile.display_name.strip():
            raise ProfileError("A connection profile needs a name.", "Type a name for this connection.")
        self._check_name_free(profile)
        path = self.path_for(profile.id)
        atomic_write_text(path, _dump_yaml(profile_to_data(profile)))
        return path

    def update(self, profile_id: str, change: Callable[[Profile], None]) -> Profile:
        """Re-read the saved profile, apply ``change`` and write it back, as one step.

        Writers that hold a copy of a profile (the session saving an approval, the settings
        dialog) each change only their own fields this way, so neither undoes what the other
        saved meanwhile. Serialised between threads and, where the OS has file locks, between
        processes (the desktop app and ``fedgui run``)."""
        with self._writing():
            profile = self.load_file(self.path_for(profile_id))
            change(profile)
            self.save(profile)
            return profile

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with _WRITE_LOCK, exclusive_file_lock(self.folder / ".write.lock"):
            yield

    def delete(self, profile_id: str) -> None:
        """Remove the profile file. (Its token is removed separately, through SecretStore.)"""
        path = self.path_for(profile_id)
        if not path.exists():
            raise ProfileNotFound("That connection profile no longer exists.", "Nothing to do.", path)
        path.unlink()

    def load_file(self, path: Path) -> Profile:
        """Read, upgrade and check one profile file; any problem is a ProfileError naming it."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise self._broken(path, f"could not be read ({err.__class__.__name__})") from err
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" near line {mark.line + 1}" if mark else ""
            # Not chained: the YAML error quotes the file, and a hand-edited file may hold a token.
            raise self._broken(path, f"is not valid YAML{where}") from None
        if not isinstance(data, dict):
            raise self._broken(path, "does not hold a profile (expected “key: value” lines)")
        # Prototype (v0) files had no id inside: the file name was the id.
        data.setdefault("id", path.stem)
        try:
            profile = profile_from_data(upgrade_profile_data(data))
        except (ValueError, TypeError) as err:
            raise self._broken(path, f"has a problem: {err}") from err
        if profile.id != path.stem:
            raise self._broken(path, f"says its id is {profile.id!r} but is named {path.name}")
        return profile

    def _check_name_free(self, profile: Profile) -> None:
        wanted = profile.display_name.casefold()
        for other in self.list():
            if other.id != profile.id and other.display_name.casefold() == wanted:
                raise ProfileNameTaken(
                    f"Another connection profile is already called “{other.display_name}”."
                )

    @staticmethod
    def _broken(path: Path, what: str) -> ProfileError:
        return ProfileError(
            f"The connection profile file {path} {what}.",
            "Fix or delete that file, or create the profile again with the connection wizard. "
            "Your other profiles are not affected.",
            path,
        )


def _dump_yaml(data: dict[str, Any]) -> str:
    """YAML that keeps names like “Klinik Köln” readable, yet always reads back the same.

    PyYAML's unicode output mangles a few line-break characters (NEL, U+0085); when that
    happens we fall back to escaped ASCII rather than store something different.
    """
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if yaml.safe_load(text) != data:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=False)
    return text


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


def _checked_id(profile_id: str) -> str:
    # The id becomes a file name: refuse anything that could point outside the folder.
    if not _is_uuid(profile_id):
        raise ProfileError(f"{profile_id!r} is not a valid profile id.", "Use an id from the profile list.")
    return str(uuid.UUID(profile_id))


def unique_name(wanted: str, taken: Iterable[str]) -> str:
    """``wanted``, or ``wanted (2)``, ``(3)``… so an import never clashes with an existing name."""
    used = {name.casefold() for name in taken}
    if wanted.casefold() not in used:
        return wanted
    number = 2
    while f"{wanted} ({number})".casefold() in used:
        number += 1
    return f"{wanted} ({number})"

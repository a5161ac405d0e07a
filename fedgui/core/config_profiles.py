"""A stable identity for ``fedgui run --config client.yaml``.

FEDn's own client makes a new client id (and, without ``name``, a new name) at every start of a
``client.yaml`` that has none, so the network lists the computer once per restart. fedgui keeps
one profile per configuration file instead: the same profile id, client id and name every time
the same file (same absolute path) is used, and with it the approvals and the task history.

The file stays the source of truth for what it says (address, name, client id, pin, token) and is
never written to: it is the admin's file, and it may hold a token. These profiles live in their
own folder, apart from the desktop app's profiles, whose tokens are in the keyring.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from fedgui.core import paths
from fedgui.core.clientconfig import ImportedClientConfig
from fedgui.core.profile import Profile, ProfileStore

# Profile ids of configuration files are derived from the file's absolute path.
_NAMESPACE = uuid.UUID("6f0c3a52-5d0e-4b7e-9a43-2f3e0c9f1d11")
#: Fields the file decides at every start (it may have been edited since).
_FROM_FILE = (
    "controller_url",
    "preferred_combiner",
    "tls_verify",
    "package_checksum_pin",
    "helper_type",
)


@dataclass
class ConfigProfile:
    profile: Profile
    store: ProfileStore
    #: Plain sentences for the person about the identity used (what is true, not what we hope).
    notes: list[str] = field(default_factory=list)


def config_profile_store() -> ProfileStore:
    return ProfileStore(paths.config_dir() / "config-profiles")


def profile_id_for(config_path: Path) -> str:
    return str(uuid.uuid5(_NAMESPACE, str(Path(config_path).resolve())))


def profile_for_config(
    imported: ImportedClientConfig, config_path: Path, store: ProfileStore | None = None
) -> ConfigProfile:
    """The saved profile of this configuration file, brought up to date with it (and saved), or a
    new one the first time. Raises ProfileError if the saved one cannot be read or written."""
    store = store or config_profile_store()
    path = Path(config_path).resolve()
    fresh = imported.profile
    profile_id = profile_id_for(path)
    file_has_id = not imported.client_id_generated
    notes: list[str] = []

    def bring_up_to_date(profile: Profile) -> None:
        for name in _FROM_FILE:
            setattr(profile, name, getattr(fresh, name))
        if file_has_id and profile.client_id != fresh.client_id:
            notes.append("The file's client_id is not the one used before with this file; using the file's.")
            profile.client_id = fresh.client_id
        elif not file_has_id:
            notes.append(
                f"The file has no client_id; fedgui uses the one it made for this file before "
                f"({profile.client_id}), so the network sees the same client as last time."
            )
        if not imported.name_generated:
            profile.client_name = fresh.client_name
        _describe(profile)

    def _describe(profile: Profile) -> None:
        # Unique within the store (it refuses two profiles with one name); says where it is from.
        profile.display_name = f"{fresh.display_name} ({path})"
        profile.extra["client_config"] = str(path)

    if store.path_for(profile_id).exists():
        # Re-read and written under the store's lock: a running `fedgui run` with this file may
        # be saving an approval right now.
        profile = store.update(profile_id, bring_up_to_date)
    else:
        profile = fresh
        profile.id = profile_id
        if not file_has_id:
            notes.append(
                f"The file has no client_id, so fedgui made one ({profile.client_id}). It keeps it for "
                f"this file (at {path}) and uses it at every start, so the network sees the same client."
            )
        _describe(profile)
        store.save(profile)
    return ConfigProfile(profile, store, notes)

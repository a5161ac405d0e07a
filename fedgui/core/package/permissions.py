"""What one approved package version may do beyond the default isolation.

By default an entry point runs without network access and can read only the data folder (see
:mod:`fedgui.core.execution.sandbox`). Some packages legitimately need more — a download of
pretrained weights, a second data folder — and the person can allow that in the review. The
permission belongs to the exact version (SHA-256) that was reviewed: a new version starts with
none again, so it has to be asked for again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PackagePermissions:
    """Off by default: no network, no folders beyond the data folder."""

    network: bool = False
    #: Extra folders the package may read (never write).
    read_folders: tuple[Path, ...] = ()

    @property
    def is_default(self) -> bool:
        return not self.network and not self.read_folders

    def to_data(self) -> dict[str, Any]:
        return {"network": self.network, "read_folders": [str(folder) for folder in self.read_folders]}

    @classmethod
    def from_data(cls, data: Any) -> PackagePermissions:
        """From a profile file; raises ValueError naming what is wrong (hand-edited files)."""
        if not isinstance(data, dict):
            raise ValueError(f"package permissions should be a mapping, not {data!r}")
        network = data.get("network", False)
        folders = data.get("read_folders") or []
        if not isinstance(network, bool):
            raise ValueError(f"network should be true or false, not {network!r}")
        if not isinstance(folders, list) or not all(isinstance(item, str) for item in folders):
            raise ValueError(f"read_folders should be a list of folders, not {folders!r}")
        return cls(network=network, read_folders=tuple(Path(item) for item in folders))


NO_EXTRA_PERMISSIONS = PackagePermissions()

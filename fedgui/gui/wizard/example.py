"""The example bundled with fedgui (package, seed model, sample data), for "Try the example first"."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import fedgui

EXAMPLE_PARTS = ("package", "seed.npz", "data")


def example_candidates() -> list[Path]:
    """Where ``resources/example`` may be: an override, a frozen bundle, an installed or source tree."""
    found: list[Path] = []
    override = os.environ.get("FEDGUI_RESOURCES")
    if override:
        found.append(Path(override) / "example")
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        found.append(Path(bundle) / "resources" / "example")
    package_dir = Path(fedgui.__file__).resolve().parent
    found.append(package_dir / "resources" / "example")  # installed with package data
    found.append(package_dir.parent / "resources" / "example")  # source checkout
    found.append(Path(sys.prefix) / "share" / "fedgui" / "example")  # installed as data files
    return found


def find_example_folder() -> Path | None:
    for folder in example_candidates():
        if all((folder / part).exists() for part in EXAMPLE_PARTS):
            return folder
    return None

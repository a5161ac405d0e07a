"""Where fedgui's own files (icons, the bundled example) are, however it was installed.

Looked for in this order: ``FEDGUI_RESOURCES`` (an override), a frozen bundle, the source tree
(a git checkout or an editable install: ``<repo>/resources``), and ``<prefix>/share/fedgui/
resources`` (where the installers put them next to the app's own Python).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resource_roots() -> list[Path]:
    roots: list[Path] = []
    override = os.environ.get("FEDGUI_RESOURCES")
    if override:
        roots.append(Path(override))
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots.append(Path(bundle) / "resources")
    roots.append(Path(__file__).resolve().parents[2] / "resources")
    roots.append(Path(sys.prefix) / "share" / "fedgui" / "resources")
    return roots


def resources_dir(must_contain: str = "") -> Path:
    """The first resource folder that has ``must_contain`` (e.g. "example/seed.npz")."""
    for root in resource_roots():
        if (root / must_contain).exists():
            return root
    raise FileNotFoundError(
        f"fedgui's resource files ({must_contain or 'resources'}) are missing; looked in "
        + ", ".join(str(r) for r in resource_roots())
        + ". Reinstall fedgui."
    )


def example_dir() -> Path:
    """The bundled example: ``package/``, ``seed.npz`` and ``data/``."""
    return resources_dir("example/seed.npz") / "example"

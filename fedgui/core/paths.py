"""Where fedgui keeps its files.

Per-user folders come from platformdirs. ``FEDGUI_HOME`` moves all of them under one folder,
which the tests (and portable installs) use so that nothing touches the real user folders.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "fedgui"


def _root_override() -> Path | None:
    value = os.environ.get("FEDGUI_HOME")
    return Path(value) if value else None


def config_dir() -> Path:
    """Profiles and settings."""
    root = _root_override()
    path = root / "config" if root else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """History database, task logs, approved packages."""
    root = _root_override()
    path = root / "data" if root else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Unpacked packages, Python environments, downloaded models: all can be rebuilt."""
    root = _root_override()
    path = root / "cache" if root else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path

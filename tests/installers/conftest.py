"""Installer tests build and install real packages. Registers the ``installer`` marker here so the
tests run under ``--strict-markers`` even before pyproject.toml lists it."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "installer: builds an installer (and for the .deb installs and purges it; root only)"
    )
    config.addinivalue_line(
        "markers", "slow: takes minutes (Debian chroots); runs in .ci/run, deselect with -m 'not slow'"
    )

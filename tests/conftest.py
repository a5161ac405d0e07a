"""Shared test set-up: every test gets its own FEDGUI_HOME so nothing touches real user folders,
and every test is marked by the folder it lives in, so lanes can be chosen with ``-m``:

    tests/unit        (no marker)   fast, no Qt, no network
    tests/gui         gui           Qt offscreen
    tests/interop     interop       a real FEDn network started by the suite
    tests/installers  installer     builds installers (as root: installs into Debian chroots)

A test anywhere that uses a real-network fixture (tests/fednet/fixtures.py) is ``interop`` too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).parent
FOLDER_MARKERS = {"gui": "gui", "interop": "interop", "installers": "installer"}
NETWORK_FIXTURES = frozenset(
    {
        "fednet_environments",
        "fedn_network",
        "fedn_network_auth",
        "fresh_fedn_network",
        "prepared_fedn_network",
        "fresh_prepared_network",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        try:
            folder = item.path.relative_to(TESTS).parts[0]
        except ValueError:
            continue
        marker = FOLDER_MARKERS.get(folder)
        if marker:
            item.add_marker(marker)
        if NETWORK_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker("interop")


@pytest.fixture(autouse=True)
def isolated_fedgui_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("fedgui-home")
    monkeypatch.setenv("FEDGUI_HOME", str(home))
    return home


# The real-FEDn-network fixtures (fedn_network, fresh_fedn_network, numpy_package, seed_model,
# ...) are used by the interop and the GUI tests alike.
pytest_plugins = ["tests.fednet.fixtures"]

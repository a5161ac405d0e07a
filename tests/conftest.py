"""Shared test set-up: every test gets its own FEDGUI_HOME so nothing touches real user folders."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_fedgui_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("fedgui-home")
    monkeypatch.setenv("FEDGUI_HOME", str(home))
    return home


# The real-FEDn-network fixtures (fedn_network, fresh_fedn_network, numpy_package, seed_model,
# ...) are used by the interop and the GUI tests alike.
pytest_plugins = ["tests.fednet.fixtures"]

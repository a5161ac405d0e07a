"""Shared test set-up: every test gets its own FEDGUI_HOME so nothing touches real user folders."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_fedgui_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("fedgui-home")
    monkeypatch.setenv("FEDGUI_HOME", str(home))
    return home

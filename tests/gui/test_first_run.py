"""The first run (issue 8, §1): "Start taking part now", ticked on the wizard's Finish page, is
honoured when the main window opens; left unticked, the window opens without taking part."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from fedgui.core.profile import Profile
from fedgui.gui.app import AppController, LaunchOptions
from fedgui.gui.settings.dialog import PreferencesStore
from fedgui.gui.window.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("start_now", [True, False])
def test_start_now_from_the_first_wizard_is_honoured(
    qtbot, tmp_path, profile_store, history, secrets, monkeypatch, start_now
):
    started: list[str] = []
    # Records the start instead of dialling a network that is not there; the wiring from the
    # wizard's choice to the window is what this test is about.
    monkeypatch.setattr(
        MainWindow, "start_or_resume", lambda window: started.append(window.controller.profile.id)
    )
    controller = AppController(
        QApplication.instance(),
        profile_store,
        history,
        secrets,
        PreferencesStore(tmp_path / "g.ini"),
        LaunchOptions(),
    )
    controller.open_first_wizard()
    qtbot.addWidget(controller.wizard)
    new = Profile.new("From the wizard", "http://localhost:8092", ready=True)
    profile_store.save(new)  # what the wizard's Finish does before it says so:
    controller.wizard.profile_saved.emit(new, start_now)
    controller.wizard.finished.emit(1)
    qtbot.waitUntil(lambda: controller.window is not None)
    qtbot.addWidget(controller.window)
    if start_now:
        qtbot.waitUntil(lambda: started == [new.id])
    else:
        qtbot.wait(100)
        assert started == []
    controller.window.really_quit = True

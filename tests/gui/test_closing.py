"""Closing and restarting (issue 8, §1 and §6): with no tray, closing the window while taking part
asks "Quit and stop taking part?"; Settings says what closing does; fedgui remembers that it was
taking part and resumes after a restart, but not after the person pressed Stop."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from fedgui.core.events import StateChanged
from fedgui.core.session.states import SessionState
from fedgui.gui.app import AppController, LaunchOptions
from fedgui.gui.settings.dialog import NO_TRAY_NOTE, PreferencesStore, SettingsDialog
from fedgui.gui.window.main_window import MainWindow
from tests.gui.conftest import emit_from_thread

pytestmark = pytest.mark.gui


def answer_quit_question(qtbot, window, button_text: str) -> str:
    """Wait for the question (it opens without blocking), press a button; returns its text."""
    qtbot.waitUntil(lambda: window.quit_question is not None and window.quit_question.isVisible())
    question = window.quit_question
    text = question.text()
    for button in question.buttons():
        if button.text().replace("&", "") == button_text:
            button.click()
            return text
    raise AssertionError(f"no button {button_text!r}")


def taking_part(qtbot, window) -> None:
    window.start_or_resume()
    emit_from_thread(window.controller.bus, StateChanged(state=SessionState.READY))
    qtbot.waitUntil(lambda: window.status_panel.state is SessionState.READY)


def restart(qtbot, profiles, profile_store, history, secrets, tmp_path) -> AppController:
    """fedgui started again: a new AppController on the same preferences file opens its window."""
    restarted = AppController(
        QApplication.instance(),
        profile_store,
        history,
        secrets,
        PreferencesStore(tmp_path / "gui.ini"),
        LaunchOptions(),
    )
    restarted.open_main_window(profiles)
    qtbot.addWidget(restarted.window)
    return restarted


def test_closing_without_tray_asks_and_keep_keeps_taking_part(qtbot, window, sessions):
    window.tray.available = False
    taking_part(qtbot, window)
    window.close()
    assert answer_quit_question(qtbot, window, "Keep taking part") == "Quit and stop taking part?"
    assert window.isVisible() and not window.really_quit
    assert "stop" not in sessions[0].names()


def test_quit_after_the_question_resumes_after_a_restart(
    qtbot, window, sessions, profiles, profile_store, history, secrets, tmp_path, monkeypatch
):
    window.tray.available = False
    taking_part(qtbot, window)
    window.close()
    with qtbot.waitSignal(window.quitting, timeout=5000):
        answer_quit_question(qtbot, window, "Quit")
    assert "stop" in sessions[0].names()

    # The restart: a new AppController reads the same preferences file.
    started: list[str] = []
    # Records the start instead of dialling a network that is not there (see test_first_run.py).
    monkeypatch.setattr(MainWindow, "start_or_resume", lambda w: started.append(w.controller.profile.id))
    monkeypatch.setattr(QApplication.instance(), "quit", lambda: None)
    restarted = restart(qtbot, profiles, profile_store, history, secrets, tmp_path)
    qtbot.waitUntil(lambda: started == [profiles[0].id])
    restarted.window.really_quit = True


def test_stop_is_remembered_across_a_restart(
    qtbot, window, profiles, profile_store, history, secrets, tmp_path, monkeypatch
):
    taking_part(qtbot, window)
    window.status_panel.stop_button.click()
    window.preferences_store.sync()
    started: list[str] = []
    monkeypatch.setattr(MainWindow, "start_or_resume", lambda w: started.append(w.controller.profile.id))
    restarted = restart(qtbot, profiles, profile_store, history, secrets, tmp_path)
    qtbot.wait(100)
    assert started == []
    restarted.window.really_quit = True


def test_settings_say_what_closing_does_without_a_tray(qtbot, window, profile_store):
    from PySide6.QtWidgets import QSystemTrayIcon

    if QSystemTrayIcon.isSystemTrayAvailable():
        pytest.skip("this desktop has a tray")
    dialog = SettingsDialog(
        window.controller.profile, profile_store, window.preferences_store.preferences(), parent=window
    )
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.minimize_to_tray.isEnabled() and not dialog.minimize_to_tray.isChecked()
    assert dialog.tray_note.isVisible() and dialog.tray_note.text() == NO_TRAY_NOTE
    assert "Quit" in NO_TRAY_NOTE or "quit" in NO_TRAY_NOTE

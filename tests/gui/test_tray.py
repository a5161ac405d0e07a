"""Tray notifications: which events deserve one, and that they are sent."""

from __future__ import annotations

from fedgui.core.events import LogLine, StateChanged, TaskFinished
from fedgui.core.session.states import SessionState
from fedgui.gui.window.tray import Tray, notification_for


def test_which_events_notify():
    assert notification_for(TaskFinished(task_id="t", kind="train", status="ok"), None).severity == "info"
    failed = notification_for(TaskFinished(task_id="t", kind="validate", status="failed", error="boom"), None)
    assert failed.severity == "error" and failed.text == "boom"
    assert notification_for(TaskFinished(task_id="t", kind="train", status="cancelled"), None) is None
    expired = notification_for(StateChanged(state=SessionState.TOKEN_EXPIRED), SessionState.READY)
    assert expired.severity == "warning" and "token" in expired.text
    assert (
        notification_for(StateChanged(state=SessionState.TOKEN_EXPIRED), SessionState.TOKEN_EXPIRED) is None
    )  # once
    assert notification_for(StateChanged(state=SessionState.REVIEW_NEEDED), None).title.startswith(
        "A package update"
    )
    error = notification_for(StateChanged(state=SessionState.ERROR, error=RuntimeError("disk full")), None)
    assert error.text == "disk full"
    assert notification_for(StateChanged(state=SessionState.READY), None) is None
    assert notification_for(LogLine(source="x", stream="stdout", text="y"), None) is None


def test_tray_sends_and_tracks_state(qtbot, monkeypatch):
    tray = Tray()
    shown = []
    tray.available = True
    monkeypatch.setattr(tray.icon, "showMessage", lambda *args: shown.append(args))
    monkeypatch.setattr("fedgui.gui.window.tray.QSystemTrayIcon.supportsMessages", staticmethod(lambda: True))
    tray.handle_event(TaskFinished(task_id="t", kind="train", status="ok"))
    assert shown and shown[0][0] == "Training finished"
    tray.show_state(SessionState.PAUSED, "Paused", True, False)
    assert tray.start_action.text() == "&Resume" and not tray.pause_action.isEnabled()
    assert tray.icon.toolTip() == "fedgui: Paused"
    assert len(tray.sent) == 1


def test_tray_menu_quit_quits_the_window(qtbot, window, sessions):
    window.start_or_resume()
    with qtbot.waitSignal(window.quitting, timeout=5000):
        window.tray.quit_action.trigger()

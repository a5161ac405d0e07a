"""Main window behaviour driven by real events on the window's real EventBus."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from fedgui.core.events import (
    LogLine,
    MetricReported,
    ResourceUsage,
    StateChanged,
    TaskFinished,
    TaskStarted,
)
from fedgui.core.session.states import SessionState, describe
from fedgui.gui.window.plain_words import plain_headline
from fedgui.gui.window.status_panel import button_states
from tests.gui.conftest import emit_from_thread


def set_state(qtbot, window, state: SessionState, detail: str = "", error=None) -> None:
    emit_from_thread(window.controller.bus, StateChanged(state=state, detail=detail, error=error))
    qtbot.waitUntil(lambda: window.controller.state is state)


@pytest.mark.parametrize("state", list(SessionState))
def test_buttons_follow_the_state(qtbot, window, state):
    set_state(qtbot, window, state)
    expected = button_states(state)
    panel = window.status_panel
    assert panel.start_button.isEnabled() == expected.start
    assert panel.pause_button.isEnabled() == expected.pause
    assert panel.stop_button.isEnabled() == expected.stop
    assert window.start_action.isEnabled() == expected.start
    assert window.stop_action.isEnabled() == expected.stop
    assert panel.token_button.isVisibleTo(window) == (
        state in (SessionState.TOKEN_EXPIRED, SessionState.TOKEN_REJECTED)
    )
    assert panel.review_button.isVisibleTo(window) == (state is SessionState.REVIEW_NEEDED)
    assert panel.retry_button.isVisibleTo(window) == (state is SessionState.ERROR)
    assert panel.headline_label.text() == plain_headline(state, "")


def test_button_states_make_sense():
    assert button_states(SessionState.IDLE).start and not button_states(SessionState.IDLE).stop
    assert button_states(SessionState.WORKING).pause and button_states(SessionState.WORKING).stop
    assert button_states(SessionState.PAUSED).start_text == "&Resume"
    assert not button_states(SessionState.PAUSING).pause


def test_status_shows_detail_error_network_and_since(qtbot, window):
    set_state(qtbot, window, SessionState.WORKING, "training round 7")
    panel = window.status_panel
    assert panel.headline_label.text() == "Training on your data (round 7)"
    assert "Hospital network" in panel.context_label.text()
    assert "since" in panel.context_label.text().casefold()
    set_state(qtbot, window, SessionState.RECONNECTING, "reconnecting in 8 s")
    assert panel.headline_label.text() == "Can't reach the network — trying again in 8 s"
    set_state(qtbot, window, SessionState.ERROR, "", RuntimeError("The environment could not be built."))
    assert panel.problem_label.text() == "The environment could not be built."
    assert panel.problem_label.isVisibleTo(window)


def test_start_pause_resume_stop_reach_the_session(qtbot, window, sessions):
    qtbot.mouseClick(window.status_panel.start_button, Qt.MouseButton.LeftButton)
    assert len(sessions) == 1 and sessions[0].names() == ["start"]
    session = sessions[0]
    set_state(qtbot, window, SessionState.READY)
    qtbot.mouseClick(window.status_panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "pause" in session.names())
    set_state(qtbot, window, SessionState.PAUSED)
    assert window.status_panel.start_button.text() == "&Resume"
    qtbot.mouseClick(window.status_panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "resume" in session.names())
    qtbot.mouseClick(window.status_panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "stop" in session.names())


def test_start_after_stop_builds_a_fresh_session(qtbot, window, sessions):
    window.start_or_resume()
    set_state(qtbot, window, SessionState.STOPPED)
    window.start_or_resume()
    assert len(sessions) == 2 and sessions[1].names() == ["start"]


def test_expired_token_is_replaced(qtbot, window, sessions, secrets, profiles, monkeypatch):
    window.start_or_resume()
    set_state(qtbot, window, SessionState.TOKEN_EXPIRED)
    monkeypatch.setattr(window, "ask_new_token", lambda: "new-token")
    qtbot.mouseClick(window.status_panel.token_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ("update_token", "new-token") in sessions[0].calls)
    assert secrets.tokens[profiles[0].id] == "new-token"


def test_log_flood_from_a_thread_is_batched_and_bounded(qtbot, window):
    lines = [LogLine(source="train", stream="stdout", text=f"line {i}") for i in range(30_000)]
    emit_from_thread(window.controller.bus, *lines)
    view = window.log_view
    # After the flood the view holds exactly the newest `capacity` lines, in order.
    qtbot.waitUntil(lambda: view.model.rowCount() == view.capacity)
    assert view.model.line(0).text == f"line {30_000 - view.capacity}"
    assert view.model.line(view.capacity - 1).text == "line 29999"


def test_live_metrics_and_task_lifecycle(qtbot, window, history, profiles):
    window.tabs.setCurrentWidget(window.plots)
    emit_from_thread(
        window.controller.bus,
        TaskStarted(task_id="t1", kind="train", round_id="9", model_id="m", session_id=None),
        *[
            MetricReported(values={"loss": 1.0 / (i + 1), "acc": i / 10}, step=i, source="train")
            for i in range(5)
        ],
        ResourceUsage(cpu_percent=150.0, rss_bytes=300 * 1024 * 1024),
    )
    qtbot.waitUntil(lambda: len(window.plots.live.get("loss", [])) == 5)
    assert window.plots.live["acc"][-1] == (4.0, 0.4)
    assert window.plots.live_title.endswith("round 9")
    assert "300.0 MB" in window.resource_meter.memory_label.text()
    before = window.history_table.model.rowCount()
    task = history.start_task(profiles[0].id, "validate", round_id="9")
    history.add_metrics(task, "validation", {"accuracy": 0.99})
    history.finish_task(task, "ok")
    emit_from_thread(window.controller.bus, TaskFinished(task_id=task, kind="validate", status="ok"))
    qtbot.waitUntil(lambda: window.history_table.model.rowCount() == before + 1)
    qtbot.waitUntil(lambda: [p.value for p in window.plots.data.validation["accuracy"]][-1] == 0.99)


def test_notifications_go_to_the_tray_when_the_window_is_hidden(qtbot, window):
    window.hide()
    emit_from_thread(
        window.controller.bus,
        TaskFinished(task_id="x", kind="train", status="ok"),
        TaskFinished(task_id="y", kind="validate", status="failed", error="The validation code crashed."),
        StateChanged(state=SessionState.TOKEN_EXPIRED),
        StateChanged(state=SessionState.REVIEW_NEEDED),
    )
    qtbot.waitUntil(lambda: len(window.tray.sent) == 4)
    titles = [n.title for n in window.tray.sent]
    assert titles[0] == "Training finished"
    assert window.tray.sent[1].text == "The validation code crashed."
    assert titles[2] == describe(SessionState.TOKEN_EXPIRED)
    assert "review" in titles[3]


def test_switching_profiles_shows_that_profiles_history(qtbot, window, profiles):
    assert window.history_table.model.rowCount() == 9  # 5 rounds, round 3 without validation
    window.profile_choice.setCurrentIndex(1)
    window.profile_choice.activated.emit(1)
    qtbot.waitUntil(lambda: window.history_table.model.rowCount() == 4)
    assert window.controller.profile.id == profiles[1].id
    assert "Lab network" in window.status_panel.context_label.text()


def test_quit_stops_the_running_session_first(qtbot, window, sessions, monkeypatch):
    window.start_or_resume()
    set_state(qtbot, window, SessionState.WORKING)
    with qtbot.waitSignal(window.quitting, timeout=5000):
        window.quit_app()
    assert sessions[0].names()[-1] == "stop"


def test_close_without_tray_quits(qtbot, window, sessions):
    from tests.gui.test_closing import answer_quit_question

    window.tray.available = False
    window.start_or_resume()
    set_state(qtbot, window, SessionState.READY)
    window.close()
    with qtbot.waitSignal(window.quitting, timeout=5000):
        answer_quit_question(qtbot, window, "Quit")  # the question is tested in test_closing.py
    assert "stop" in sessions[0].names()


def test_close_with_tray_keeps_taking_part_and_says_so_once(qtbot, window, sessions):
    window.tray.available = True
    window.start_or_resume()
    set_state(qtbot, window, SessionState.READY)
    window.close()
    assert not window.isVisible() and not window.really_quit
    assert window.tray.sent[-1].title == "fedgui keeps taking part"
    window.show()
    window.close()
    assert [n.title for n in window.tray.sent].count("fedgui keeps taking part") == 1
    assert "stop" not in sessions[0].names()


def test_keyboard_shortcuts(qtbot, window):
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.history_table
    window.find_in_log()
    assert window.tabs.currentWidget() is window.log_view


def test_every_button_has_a_name(window):
    from PySide6.QtWidgets import QAbstractButton

    for button in window.findChildren(QAbstractButton):
        if button.objectName().startswith("qt_") or not button.isVisibleTo(window):
            continue  # Qt's own helpers (table corner, tab scrollers)
        assert button.text() or button.accessibleName() or button.toolTip(), button


def test_first_shown_marker(qtbot, tmp_path, monkeypatch, profiles, profile_store, history, secrets):
    from fedgui.gui.settings.dialog import PreferencesStore
    from fedgui.gui.window.main_window import MainWindow

    marker = tmp_path / "shown.txt"
    monkeypatch.setenv("FEDGUI_STARTUP_MARKER", str(marker))
    main = MainWindow(
        profiles,
        profile_store=profile_store,
        history=history,
        secrets=secrets,
        preferences=PreferencesStore(tmp_path / "g.ini"),
    )
    qtbot.addWidget(main)
    with qtbot.waitSignal(main.first_shown):
        main.show()
    assert marker.read_text().startswith("FIRST_SHOWN")
    assert float(marker.read_text().split()[1]) <= time.time()


def test_first_run_opens_the_wizard_then_the_main_window(qtbot, tmp_path, profile_store, history, secrets):
    from fedgui.core.profile import Profile
    from fedgui.gui.app import AppController, LaunchOptions
    from fedgui.gui.settings.dialog import PreferencesStore
    from fedgui.gui.wizard.wizard import ConnectionWizard

    app = QApplication.instance()
    controller = AppController(
        app, profile_store, history, secrets, PreferencesStore(tmp_path / "g.ini"), LaunchOptions()
    )
    controller.open_first_wizard()
    assert isinstance(controller.wizard, ConnectionWizard)
    qtbot.addWidget(controller.wizard)
    new = Profile.new("From the wizard", "http://localhost:8092", ready=True)
    profile_store.save(new)  # what the wizard's last page does, and says so:
    controller.wizard.profile_saved.emit(new, True)
    controller.wizard.finished.emit(1)
    qtbot.waitUntil(lambda: controller.window is not None)
    qtbot.addWidget(controller.window)
    assert controller.window.controller.profile.id == new.id
    controller.window.really_quit = True


def test_first_run_wizard_closed_without_a_profile_quits(qtbot, tmp_path, history, secrets, monkeypatch):
    from fedgui.core.profile import ProfileStore
    from fedgui.gui.app import AppController, LaunchOptions
    from fedgui.gui.settings.dialog import PreferencesStore

    app = QApplication.instance()
    quits = []
    monkeypatch.setattr(app, "quit", lambda: quits.append(True))
    store = ProfileStore(tmp_path / "empty-profiles")
    controller = AppController(
        app, store, history, secrets, PreferencesStore(tmp_path / "g.ini"), LaunchOptions()
    )
    controller.open_first_wizard()
    qtbot.addWidget(controller.wizard)
    controller.wizard.finished.emit(0)
    qtbot.waitUntil(lambda: bool(quits))
    assert controller.window is None


def _mnemonic(text: str) -> str | None:
    cleaned = text.replace("&&", "")
    index = cleaned.find("&")
    return cleaned[index + 1].casefold() if 0 <= index < len(cleaned) - 1 else None


@pytest.mark.parametrize(
    "state",
    [SessionState.WORKING, SessionState.TOKEN_EXPIRED, SessionState.REVIEW_NEEDED, SessionState.ERROR],
)
def test_alt_keys_are_unique_on_every_tab(qtbot, window, state):
    from PySide6.QtWidgets import QAbstractButton, QLabel

    set_state(qtbot, window, state)
    for tab in range(window.tabs.count()):
        window.tabs.setCurrentIndex(tab)
        texts = [a.text() for a in window.menuBar().actions()]
        texts += [window.tabs.tabText(i) for i in range(window.tabs.count())]
        texts += [b.text() for b in window.findChildren(QAbstractButton) if b.isVisibleTo(window)]
        texts += [
            lbl.text() for lbl in window.findChildren(QLabel) if lbl.buddy() and lbl.isVisibleTo(window)
        ]
        keys = [k for k in map(_mnemonic, texts) if k]
        duplicates = {k for k in keys if keys.count(k) > 1}
        assert not duplicates, (window.tabs.tabText(tab), duplicates, texts)


def _flush_ui_thread(qtbot) -> None:
    """Wait until everything handed to the UI thread so far has been handled."""
    from fedgui.gui.threads import on_main_thread

    done: list[bool] = []
    on_main_thread(lambda: done.append(True), owner=None)
    qtbot.waitUntil(lambda: bool(done))


def test_a_session_let_go_does_not_reach_the_next_network(qtbot, window, sessions, profiles, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    window.start_or_resume()
    old = sessions[0]
    emit_from_thread(old.bus, StateChanged(state=SessionState.WORKING))
    qtbot.waitUntil(lambda: window.controller.state is SessionState.WORKING)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.profile_choice.setCurrentIndex(1)
    window.profile_choice.activated.emit(1)
    assert window.controller.profile.id == profiles[1].id
    assert old.names()[-1] == "stop"
    # The old session finishes stopping a moment later and says so; nobody shows it.
    emit_from_thread(
        old.bus,
        StateChanged(state=SessionState.STOPPED),
        LogLine(source="client", stream="client", text="old network stopped"),
    )
    _flush_ui_thread(qtbot)
    assert window.controller.state is SessionState.IDLE
    window.start_or_resume()
    emit_from_thread(sessions[1].bus, StateChanged(state=SessionState.READY))
    qtbot.waitUntil(lambda: window.controller.state is SessionState.READY)
    view = window.log_view
    assert all(view.model.line(i).text != "old network stopped" for i in range(view.model.rowCount()))


def test_events_queued_before_a_switch_are_dropped(qtbot, window, sessions, profiles):
    window.start_or_resume()
    emit_from_thread(sessions[0].bus, StateChanged(state=SessionState.WORKING))  # queued, not yet shown
    window.switch_profile(profiles[1])
    _flush_ui_thread(qtbot)
    assert window.controller.state is SessionState.IDLE
    assert window.status_panel.start_button.isEnabled()

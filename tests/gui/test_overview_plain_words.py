"""The main window reads like a product (issue 8, §2, §4, §6): the Overview tab comes first and
says the state, the contribution, the model's result on this person's data and recent rounds in
sentences; no FEDn internals in any session state; Pause/Resume/Stop are in the log; the window
fits a 1366×768 screen with a task bar."""

from __future__ import annotations

import pytest

from fedgui.core.events import StateChanged
from fedgui.core.session.states import SessionState
from tests.gui.conftest import emit_from_thread
from tests.gui.jargon import assert_plain

pytestmark = pytest.mark.gui

DETAILS = {
    SessionState.WORKING: "training round 7",
    SessionState.RECONNECTING: "connecting to combiner at 127.0.0.1:12080 again in 8 s",
    SessionState.CONNECTING_COMBINER: "connecting to combiner at 127.0.0.1:12080",
    SessionState.REVIEW_NEEDED: "package " + "a" * 64 + " needs review; fedgui run --approve",
}


def test_overview_is_the_first_tab_and_speaks_in_sentences(qtbot, window):
    assert window.tabs.tabText(0).replace("&", "") == "Overview"
    assert window.tabs.currentWidget() is window.overview
    assert window.tabs.tabText(window.tabs.count() - 1).replace("&", "") == "Details: log"
    overview = window.overview
    qtbot.waitUntil(lambda: overview.data.rounds_trained > 0)
    # conftest's history: 5 rounds, round 3 failed: 4 trainings with 400 examples each.
    assert overview.rounds_label.text() == "4"
    assert overview.examples_label.text() == "400"
    assert overview.metric_label.text() == "Accuracy: 0.75"
    assert overview.sparkline.values[-1] == pytest.approx(0.75)
    assert "higher is better" in overview.metric_note.text()
    assert "Getting better" in overview.metric_note.text()
    recent = overview.rounds_text.text().splitlines()
    assert any(
        line.startswith("Round 5: trained on 400 of your examples for")
        and line.endswith("sent the update. Your data stayed on this computer.")
        for line in recent
    ), recent
    assert any(line.startswith("Round 3: training stopped with a problem") for line in recent)


@pytest.mark.parametrize("state", list(SessionState))
def test_no_internals_in_any_state(qtbot, window, state):
    window.start_or_resume()
    emit_from_thread(window.controller.bus, StateChanged(state=state, detail=DETAILS.get(state, "")))
    qtbot.waitUntil(lambda: window.status_panel.state is state)
    for index in range(window.tabs.count() - 1):  # every tab but the log (the details)
        window.tabs.setCurrentIndex(index)
        tray = [window.tray.icon.toolTip(), *(a.text() for a in window.tray.menu.actions())]
        assert_plain(window, f"the main window, {state.value}, tab {index}", tray)


def test_headlines_in_plain_words(qtbot, window):
    window.start_or_resume()
    bus = window.controller.bus
    emit_from_thread(bus, StateChanged(state=SessionState.WORKING, detail="training round 7"))
    qtbot.waitUntil(lambda: window.status_panel.headline_label.text() == "Training on your data (round 7)")
    assert window.overview.state_label.text() == "Training on your data (round 7)"
    emit_from_thread(bus, StateChanged(state=SessionState.READY))
    qtbot.waitUntil(
        lambda: window.status_panel.headline_label.text() == "Connected — waiting for the next training round"
    )
    emit_from_thread(bus, StateChanged(state=SessionState.RECONNECTING, detail="again in 8 s"))
    qtbot.waitUntil(
        lambda: window.status_panel.headline_label.text() == "Can't reach the network — trying again in 8 s"
    )
    emit_from_thread(bus, StateChanged(state=SessionState.REVIEW_NEEDED))
    qtbot.waitUntil(lambda: window.status_panel.review_button.isVisibleTo(window))
    assert window.status_panel.review_button.text().replace("&", "") == "Review changes…"
    panel = window.status_panel
    said = f"{panel.headline_label.text()}. {panel.problem_label.text()}"
    assert said == "The network has a new version of its code. Review it to keep taking part."


def test_pause_resume_and_stop_are_in_the_log(qtbot, window, sessions):
    window.start_or_resume()
    bus = window.controller.bus
    emit_from_thread(bus, StateChanged(state=SessionState.READY))
    qtbot.waitUntil(lambda: window.status_panel.pause_button.isEnabled())
    window.status_panel.pause_button.click()
    emit_from_thread(bus, StateChanged(state=SessionState.PAUSED))
    qtbot.waitUntil(lambda: window.status_panel.start_button.isEnabled())
    window.status_panel.start_button.click()
    emit_from_thread(bus, StateChanged(state=SessionState.READY))
    qtbot.waitUntil(lambda: window.status_panel.stop_button.isEnabled())
    window.status_panel.stop_button.click()
    window.log_view.flush()
    text = "\n".join(line.text for line in window.log_view.model.lines())
    assert "You paused taking part" in text
    assert "You resumed taking part" in text
    assert "You stopped taking part" in text


def test_fits_a_1366_by_768_screen_with_a_task_bar(qtbot, window):
    from PySide6.QtWidgets import QApplication

    free = QApplication.primaryScreen().availableGeometry()
    assert window.height() <= max(480, free.height() - 40)
    assert window.minimumSizeHint().width() <= 1024 and window.minimumSizeHint().height() <= 640

"""The whole first-run journey against a real FEDn 0.33 network: the wizard (test connection →
review → approve → environment → preview → finish) hands its profile to the main window, which
starts a real session; a two-round FEDn session finishes and shows up in the history table
and in the result plots."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QWizard

from fedgui.core.history.store import HistoryStore
from fedgui.core.session.states import SessionState
from fedgui.gui.window.main_window import MainWindow
from tests.gui.conftest_wizard import *  # noqa: F403 - fixtures
from tests.gui.test_wizard_network import (
    LONG,
    connect_and_choose_data,
    make_wizard,
    preview_done,
    wait_for_review,
)

pytestmark = [pytest.mark.gui, pytest.mark.interop]


@pytest.fixture
def network(fresh_prepared_network):
    return fresh_prepared_network


def test_wizard_then_main_window_take_part_in_a_real_session(
    qtbot, tmp_path, network, profile_store, no_keyring_store, package_cache
):
    wizard = make_wizard(qtbot, profile_store, no_keyring_store, package_cache)
    connect_and_choose_data(qtbot, wizard, tmp_path, network.api_url)
    wait_for_review(qtbot, wizard)
    wizard.package_page.approve_button.click()
    wizard.next()
    qtbot.waitUntil(wizard.environment_page.isComplete, timeout=LONG)
    wizard.next()
    qtbot.waitUntil(lambda: preview_done(wizard.preview_page.panel), timeout=LONG)
    wizard.next()
    with qtbot.waitSignal(wizard.profile_saved, timeout=LONG) as saved:
        wizard.button(QWizard.WizardButton.FinishButton).click()
    profile, start_now = saved.args
    assert start_now

    history = HistoryStore(tmp_path / "history.sqlite3")
    window = MainWindow(
        profile_store.list(),
        profile_store=profile_store,
        history=history,
        secrets=no_keyring_store,
        current_profile_id=profile.id,
    )
    qtbot.addWidget(window)
    window.show()
    try:
        window.start_or_resume()
        qtbot.waitUntil(lambda: window.controller.state is SessionState.READY, timeout=LONG)
        assert window.status_panel.headline_label.text() == "Connected — waiting for the next training round"
        network.wait_clients_online(1, timeout=30)

        session_id = network.start_session(rounds=2, round_timeout=60, min_clients=1)
        network.wait_session_finished(session_id, timeout=90)

        # The check before the first training, two trainings and two validations in the history.
        def finished_rows():
            return [row for row in window.history_table.model.rows if row.task.status != "running"]

        def kinds():
            return sorted(row.task.kind for row in finished_rows())

        qtbot.waitUntil(lambda: kinds().count("validate") >= 2, timeout=LONG)
        rows = finished_rows()
        assert kinds().count("train") == 2 and kinds().count("preview") == 1
        assert [row.task.status for row in rows] == ["ok"] * len(rows), [row.task.error for row in rows]

        # The validation metrics per round are on the Results tab.
        window.tabs.setCurrentWidget(window.plots)
        qtbot.waitUntil(lambda: len(window.plots.data.validation.get("test_accuracy", [])) >= 2, timeout=LONG)
        assert window.plots.data.training.get("num_examples")
        shown = "\n".join(line.text for line in window.log_view.model.lines())
        assert "trained on 2 arrays" in shown  # the entry point's own output reached the live log
    finally:
        window.stop()
        stopped = (SessionState.STOPPED, SessionState.IDLE)
        qtbot.waitUntil(lambda: window.controller.state in stopped, timeout=LONG)
        history.close()

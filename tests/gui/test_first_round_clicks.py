"""From first launch to the first finished round, counting the clicks a person makes (issue 8):
the real first-run path (AppController → wizard → main window) against a real FEDn 0.33 network,
with the client.yaml the admin sent. Every click goes through a real button; each file dialog
counts as two clicks (pick the item, press Open/Choose), since it is the platform's own dialog
and cannot be driven here."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWizard

from fedgui.core.history.store import HistoryStore
from fedgui.core.profile import ProfileStore
from fedgui.core.session.states import SessionState
from fedgui.gui.app import AppController, LaunchOptions
from fedgui.gui.settings.dialog import PreferencesStore
from tests.gui.conftest_wizard import *  # noqa: F403 - fixtures
from tests.gui.conftest_wizard import write_client_yaml

pytestmark = [pytest.mark.gui, pytest.mark.interop]

LONG = 120_000
#: What the person does in a file dialog: pick the file or folder, press Open / Choose.
CLICKS_PER_FILE_DIALOG = 2


def test_clicks_from_first_launch_to_the_first_finished_round(
    qtbot, tmp_path, fresh_prepared_network, no_keyring_store, monkeypatch, isolated_fedgui_home
):
    network = fresh_prepared_network
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    config = write_client_yaml(downloads / "client.yaml", "http://127.0.0.1", network.api_port)
    data = tmp_path / "my-data"
    data.mkdir()
    (data / "samples.csv").write_text("a,b\n1,2\n", encoding="utf-8")

    clicks = 0

    def click(button) -> None:
        nonlocal clicks
        assert button.isVisible() and button.isEnabled(), button.text()
        clicks += 1
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def file_dialog(answer: Path):
        def dialog(*_args, **_kwargs):
            nonlocal clicks
            clicks += CLICKS_PER_FILE_DIALOG
            return (str(answer), "") if answer.is_file() else str(answer)

        return dialog

    monkeypatch.setattr("fedgui.gui.wizard.pages.controller.QFileDialog.getOpenFileName", file_dialog(config))
    monkeypatch.setattr(
        "fedgui.gui.wizard.pages.computer.QFileDialog.getExistingDirectory", file_dialog(data)
    )

    store = ProfileStore(Path(isolated_fedgui_home) / "profiles")
    history = HistoryStore(tmp_path / "history.sqlite3")
    controller = AppController(
        QApplication.instance(),
        store,
        history,
        no_keyring_store,
        PreferencesStore(tmp_path / "g.ini"),
        LaunchOptions(),
    )
    monkeypatch.setattr(QApplication.instance(), "quit", lambda: None)
    controller.open_first_wizard()
    wizard = controller.wizard
    qtbot.addWidget(wizard)
    next_button = wizard.button(QWizard.WizardButton.NextButton)

    click(next_button)  # welcome
    page = wizard.controller_page
    click(page.import_button)  # the client.yaml from Downloads; the test runs by itself
    qtbot.waitUntil(next_button.isEnabled, timeout=LONG)
    click(next_button)
    click(wizard.computer_page.choose_button)  # the data folder
    qtbot.waitUntil(next_button.isEnabled, timeout=LONG)
    click(next_button)
    qtbot.waitUntil(wizard.package_page.approve_button.isEnabled, timeout=LONG)
    click(wizard.package_page.approve_button)
    click(next_button)
    qtbot.waitUntil(next_button.isEnabled, timeout=LONG)  # the environment is ready
    click(next_button)
    qtbot.waitUntil(next_button.isEnabled, timeout=LONG)  # the check on the data ran
    click(next_button)
    assert wizard.finish_page.start_now_box.isChecked()  # the default: start taking part now
    click(wizard.button(QWizard.WizardButton.FinishButton))

    qtbot.waitUntil(lambda: controller.window is not None, timeout=LONG)
    window = controller.window
    qtbot.addWidget(window)
    try:
        # No click: "Start taking part now" was honoured.
        qtbot.waitUntil(lambda: window.controller.state is SessionState.READY, timeout=LONG)
        network.wait_clients_online(1, timeout=30)
        network.start_session(rounds=1, round_timeout=60, min_clients=1)
        qtbot.waitUntil(lambda: window.overview.data.rounds_trained >= 1, timeout=LONG)
        assert "trained on" in window.overview.rounds_text.text()
        print(f"\nclicks from first launch to the first finished round: {clicks}")
        assert clicks == 14
    finally:
        window.really_quit = True
        window.controller.stop_then(lambda: None)
        qtbot.waitUntil(lambda: not window.controller.running, timeout=LONG)
        history.close()

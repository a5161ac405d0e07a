"""The wizard in plain words (issue 8): every page passes the jargon guard, a web service or the
training server's port at the address is named as "not a FEDn network", importing a client.yaml
clears old results, tests by itself and keeps the file's client name, an empty data folder is
said in yellow on the preview and Finish pages, file dialogs open in Downloads."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QWizard

from fedgui.core.controller.connection_check import REACHABLE
from fedgui.core.execution.sandbox import detect_isolation
from fedgui.gui.common.checklist import CheckState
from fedgui.gui.common.message import Tone
from fedgui.gui.wizard.pages.controller import downloads_folder
from fedgui.gui.wizard.wizard import ConnectionWizard, PageId
from tests.gui.conftest_wizard import *  # noqa: F403 - fixtures
from tests.gui.conftest_wizard import write_client_yaml
from tests.gui.jargon import assert_plain, jargon_in

pytestmark = pytest.mark.gui

LONG = 90_000


def make_wizard(qtbot, profile_store, secret_store, start=PageId.CONTROLLER, **kwargs) -> ConnectionWizard:
    wizard = ConnectionWizard(profile_store, secret_store, **kwargs)
    wizard.setStartId(start)
    qtbot.addWidget(wizard)
    wizard.resize(900, 700)
    wizard.show()
    return wizard


def next_button(wizard: ConnectionWizard):
    return wizard.button(QWizard.WizardButton.NextButton)


def wait_tested(qtbot, page) -> None:
    qtbot.waitUntil(lambda: page.report is not None and not page._testing, timeout=LONG)


@pytest.fixture
def web_server(tmp_path):
    """A real HTTP server (Python's own file server) on 127.0.0.1: some other web service."""
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "index.html").write_text("<h1>Intranet</h1>", encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "www"))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


# -- the guard itself ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Connected to the combiner",
        "The controller at fedn.example.org answered",
        "Server 127.0.0.1:12080",
        "client 3f2a9c1e-55d0-4c3b-9a1e-0123456789ab",
        "checksum " + "a" * 64,
        "approve it with --approve",
        "model id 42",
    ],
)
def test_the_guard_finds_internals(text):
    assert jargon_in(text)


@pytest.mark.parametrize(
    "text",
    [
        "Round 7: trained on 210 of your examples for 12 s",
        "at 12:30",
        "Connected — waiting for the next round",
    ],
)
def test_the_guard_leaves_plain_words_alone(text):
    assert not jargon_in(text)


# -- not a FEDn network ----------------------------------------------------------------------


def test_another_web_service_at_the_address_is_named(qtbot, web_server, profile_store, no_keyring_store):
    wizard = make_wizard(qtbot, profile_store, no_keyring_store)
    page = wizard.controller_page
    page.url_edit.setText(web_server)
    page.test_button.click()
    wait_tested(qtbot, page)
    assert page.checklist.states[REACHABLE] is CheckState.FAILED
    assert "not a FEDn network" in page.checklist.detail(REACHABLE)
    assert "Check the address and the port" in page.result_message.text()
    assert "server side" not in page.result_message.text()
    assert "internet connection" not in page.result_message.text()
    assert web_server.split("//")[1] in page.details.text()  # the address is a detail, for support
    assert not page.details.body.isVisible()
    assert_plain(wizard, "the connection page after a web service answered")
    assert not next_button(wizard).isEnabled()


def test_the_training_servers_port_is_named(
    qtbot, prepared_fedn_network, profile_store, no_keyring_store, package_cache
):
    """The combiner's gRPC port given instead of the controller's: not "check your internet"."""
    net = prepared_fedn_network
    wizard = make_wizard(qtbot, profile_store, no_keyring_store, package_cache=package_cache)
    page = wizard.controller_page
    page.url_edit.setText(f"http://127.0.0.1:{net.grpc_port}")
    page.test_button.click()
    wait_tested(qtbot, page)
    assert page.checklist.states[REACHABLE] is CheckState.FAILED
    text = page.checklist.detail(REACHABLE) + " " + page.result_message.text()
    assert "not a FEDn network" in text, text
    assert "Check the address and the port" in text
    assert "internet connection" not in text
    assert_plain(wizard, "the connection page after the training server's port")


# -- import ------------------------------------------------------------------------------------


def test_import_clears_old_results_tests_by_itself_and_keeps_the_name(
    qtbot, tmp_path, prepared_fedn_network, profile_store, no_keyring_store, package_cache
):
    net = prepared_fedn_network
    wizard = make_wizard(qtbot, profile_store, no_keyring_store, package_cache=package_cache)
    page = wizard.controller_page
    page.url_edit.setText("http://127.0.0.1:1")  # first a failed test with a typed address
    page.test_button.click()
    wait_tested(qtbot, page)
    assert page.checklist.states[REACHABLE] is CheckState.FAILED

    config = write_client_yaml(tmp_path / "client.yaml", "http://127.0.0.1", net.api_port)
    page.import_config(config)
    # The old failure disappears at once, before the new test has an answer.
    qtbot.waitUntil(lambda: page.checklist.states[REACHABLE] is not CheckState.FAILED, timeout=LONG)
    qtbot.waitUntil(lambda: page.report is not None and page.report.ok, timeout=LONG)  # no click
    assert page.result_message.tone is Tone.OK
    assert "lab-computer" in page.import_message.text()
    assert_plain(wizard, "the connection page after an import")
    assert next_button(wizard).isEnabled()
    wizard.next()
    assert wizard.computer_page.name_edit.text() == "lab-computer"  # not the host name


def test_client_yaml_dialog_opens_in_downloads(qtbot, tmp_path, monkeypatch, profile_store, no_keyring_store):
    home = tmp_path / "home"
    (home / "Downloads").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(home / "Downloads"))
    expected = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation))
    assert downloads_folder() == expected
    wizard = make_wizard(qtbot, profile_store, no_keyring_store)
    opened: list[str] = []

    def fake_dialog(_parent, _title, folder, _filter):  # records where the real dialog would open
        opened.append(folder)
        return "", ""

    monkeypatch.setattr("fedgui.gui.wizard.pages.controller.QFileDialog.getOpenFileName", fake_dialog)
    wizard.controller_page.import_button.click()
    assert opened == [str(expected)]


# -- the whole walk, empty data folder ---------------------------------------------------------------


def test_every_page_in_plain_words_and_an_empty_folder_is_said_in_yellow(
    qtbot, tmp_path, prepared_fedn_network, profile_store, no_keyring_store, package_cache
):
    wizard = make_wizard(
        qtbot, profile_store, no_keyring_store, start=PageId.WELCOME, package_cache=package_cache
    )
    assert_plain(wizard, "the welcome page")
    example = wizard.welcome_page.example
    if example.run_button.isEnabled():
        example.start()
        qtbot.waitUntil(lambda: not example.running, timeout=LONG)
        assert_plain(wizard, "the welcome page after the example ran")
    wizard.next()
    assert_plain(wizard, "the empty connection page")
    page = wizard.controller_page
    page.url_edit.setText(prepared_fedn_network.api_url)
    page.test_button.click()
    wait_tested(qtbot, page)
    assert page.report.ok
    page.details.set_expanded(True)  # open details may name internals: they are for support
    assert_plain(wizard, "the connection page after a passed test")
    wizard.next()

    empty = tmp_path / "empty-data"
    empty.mkdir()
    wizard.computer_page.set_folder(empty)
    qtbot.waitUntil(wizard.computer_page.isComplete, timeout=LONG)
    assert wizard.computer_page.summary.message.tone is Tone.WARNING
    assert_plain(wizard, "the computer page")
    wizard.next()

    package_page = wizard.package_page
    qtbot.waitUntil(package_page.approve_button.isEnabled, timeout=LONG)
    assert_plain(wizard, "the package page")
    fenced = detect_isolation().limits_files  # bubblewrap with user namespaces on this machine
    expected = "fenced in: without network access" if fenced else "your user account's rights"
    qtbot.waitUntil(lambda: expected in package_page.review.permissions.text(), timeout=LONG)
    package_page.approve_button.click()
    assert_plain(wizard, "the package page after approval")
    wizard.next()
    qtbot.waitUntil(wizard.environment_page.isComplete, timeout=LONG)
    assert_plain(wizard, "the environment page")
    wizard.next()

    preview = wizard.preview_page
    assert preview.data_warning.isVisible() and preview.data_warning.tone is Tone.WARNING
    assert "has no files" in preview.data_warning.text()
    qtbot.waitUntil(lambda: not preview.panel.running, timeout=LONG)
    assert_plain(wizard, "the preview page")
    wizard.next()

    finish = wizard.finish_page
    assert finish.warning.isVisible() and finish.warning.tone is Tone.WARNING
    assert "Not checked" in finish.warning.text()
    assert "your data folder is empty" in finish.summary.text()
    assert finish.login_box.text().replace("&", "") == "Start fedgui when I log in"
    assert finish.start_now_box.isChecked()
    assert_plain(wizard, "the Finish page")


def test_metric_names_read_as_words_with_the_key_in_the_tooltip(qtbot):
    from fedgui.gui.common.metrics_table import MetricsTable

    table = MetricsTable()
    qtbot.addWidget(table)
    table.show_metrics({"Current model": {"test_accuracy": 0.4, "num_examples_test": 90}})
    assert table.item(0, 0).text() == "Test accuracy" and table.item(0, 0).toolTip() == "test_accuracy"
    assert table.item(1, 0).text() == "Number of examples test"
    assert table.metric_text("test_accuracy") == "0.4"

"""The connection wizard's pages, offline: welcome example, controller page errors and import,
keyring fallback, "fix it later", data folder summary, environment without python_env, preview
failures. The pages that need a real FEDn network are in test_wizard_network.py."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWizard

from fedgui.core.controller.connection_check import REACHABLE, TOKEN
from fedgui.core.execution.environment import EnvironmentBuilder
from fedgui.core.preview import Preview
from fedgui.gui.common.checklist import CheckState
from fedgui.gui.common.message import Tone
from fedgui.gui.wizard.example import find_example_folder
from fedgui.gui.wizard.preview_panel import PreviewPanel
from fedgui.gui.wizard.wizard import ConnectionWizard, PageId
from tests.gui.conftest_wizard import *  # noqa: F403 - fixtures
from tests.gui.conftest_wizard import write_client_yaml

pytestmark = pytest.mark.gui

LONG = 60_000  # ms: a real subprocess (python + numpy import) can take a few seconds on CI


def make_wizard(
    qtbot, profile_store, secret_store, start: PageId = PageId.WELCOME, **kwargs
) -> ConnectionWizard:
    wizard = ConnectionWizard(profile_store, secret_store, **kwargs)
    wizard.setStartId(start)
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def next_enabled(wizard: ConnectionWizard) -> bool:
    return wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- welcome -------------------------------------------------------------------------------------


def test_welcome_says_the_data_stays_here(qtbot, profile_store, no_keyring_store):
    wizard = make_wizard(qtbot, profile_store, no_keyring_store)
    page = wizard.welcome_page
    texts = " ".join(label.text() for label in page.findChildren(type(page.paragraph(""))))
    assert "Your data stays on this computer." in texts
    assert not wizard.button(QWizard.WizardButton.BackButton).isVisible()
    assert next_enabled(wizard)


def test_example_preview_runs_offline_and_shows_metrics(qtbot, profile_store, no_keyring_store):
    assert find_example_folder() is not None, "resources/example should be found from the source tree"
    wizard = make_wizard(qtbot, profile_store, no_keyring_store)
    panel = wizard.welcome_page.example
    with qtbot.waitSignal(panel.finished, timeout=LONG) as finished:
        qtbot.mouseClick(panel.run_button, qtbot_left())
    assert finished.args == [True], panel.status.text()
    assert panel.metrics.isVisible()
    assert panel.metrics.rowCount() > 0
    assert panel.status.tone is Tone.OK
    assert "Nothing was sent" in panel.status.text()


def qtbot_left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


# -- controller page -----------------------------------------------------------------------------


def test_wrong_url_says_so_plainly_and_next_stays_disabled(qtbot, profile_store, no_keyring_store):
    wizard = make_wizard(qtbot, profile_store, no_keyring_store, PageId.CONTROLLER)
    page = wizard.controller_page
    page.url_edit.setText(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    with qtbot.waitSignal(page.completeChanged, timeout=LONG, check_params_cb=lambda: not page._testing):
        page.test_button.click()
    assert page.checklist.states[REACHABLE] is CheckState.FAILED
    assert page.checklist.states[TOKEN] is CheckState.SKIPPED
    text = page.result_message.text()
    assert page.result_message.tone is Tone.ERROR
    assert "refused" in page.checklist.detail(REACHABLE)  # what happened
    assert "127.0.0.1" in page.details.text()  # where: a detail for support
    assert text.startswith("What to do:") and "address" in text  # and what to do next
    assert "Traceback" not in text
    assert not next_enabled(wizard)


def test_malformed_address_is_explained(qtbot, profile_store, no_keyring_store):
    wizard = make_wizard(qtbot, profile_store, no_keyring_store, PageId.CONTROLLER)
    page = wizard.controller_page
    page.url_edit.setText("ftp://controller.example.org")
    page.test_button.click()
    qtbot.waitUntil(lambda: page.report is not None, timeout=LONG)
    assert page.checklist.states[REACHABLE] is CheckState.FAILED
    assert "ftp://" in page.checklist.detail(REACHABLE)
    assert not next_enabled(wizard)


def test_empty_address_asks_for_one(qtbot, profile_store, no_keyring_store):
    wizard = make_wizard(qtbot, profile_store, no_keyring_store, PageId.CONTROLLER)
    page = wizard.controller_page
    page.test_button.click()
    assert "address" in page.result_message.text()
    assert not next_enabled(wizard)


def test_token_is_masked_with_a_show_toggle(qtbot, profile_store, no_keyring_store):
    from PySide6.QtWidgets import QLineEdit

    wizard = make_wizard(qtbot, profile_store, no_keyring_store, PageId.CONTROLLER)
    page = wizard.controller_page
    assert page.token_edit.echoMode() is QLineEdit.EchoMode.Password
    page.show_token.setChecked(True)
    assert page.token_edit.echoMode() is QLineEdit.EchoMode.Normal


def test_import_client_yaml_fills_the_fields_and_lists_notes(
    qtbot, tmp_path, profile_store, no_keyring_store
):
    wizard = make_wizard(qtbot, profile_store, no_keyring_store, PageId.CONTROLLER)
    page = wizard.controller_page
    config = write_client_yaml(tmp_path / "client.yaml", "http://127.0.0.1", 8092, token="secret-token-1")
    page.import_config(config)
    qtbot.waitUntil(lambda: page.url_edit.text() != "", timeout=LONG)
    assert page.url_edit.text() == "http://127.0.0.1:8092"
    assert page.token_edit.text() == "secret-token-1"
    message = page.import_message.text()
    assert "an access token" in message
    details = page.import_details.text()  # the keys are for the admin: behind "Details of the file"
    assert "colour_scheme" in details  # unknown key named
    assert "network_id" in details  # known-but-unused key explained
    assert "secret-token-1" not in message + details
    assert wizard.context.profile.display_name


def test_import_of_a_broken_file_says_what_is_wrong(qtbot, tmp_path, profile_store, no_keyring_store):
    wizard = make_wizard(qtbot, profile_store, no_keyring_store, PageId.CONTROLLER)
    page = wizard.controller_page
    broken = tmp_path / "client.yaml"
    broken.write_text("api_url: [unclosed\n", encoding="utf-8")
    page.import_config(broken)
    qtbot.waitUntil(lambda: page.import_message.tone is Tone.ERROR, timeout=LONG)
    assert "client.yaml" in page.import_message.text()


def test_without_keyring_offers_session_only(qtbot, profile_store, no_keyring_store):
    wizard = make_wizard(qtbot, profile_store, no_keyring_store, PageId.CONTROLLER)
    page = wizard.controller_page
    qtbot.waitUntil(lambda: page.session_only_box.isVisible(), timeout=LONG)
    assert page.keyring_message.tone is Tone.WARNING
    assert "keyring" in page.keyring_message.text().lower()
    assert page.session_only_box.isChecked()


def test_with_keyring_says_where_the_token_goes(qtbot, profile_store, trusted_secret_store):
    wizard = make_wizard(qtbot, profile_store, trusted_secret_store, PageId.CONTROLLER)
    page = wizard.controller_page
    qtbot.waitUntil(lambda: page.keyring_message.isVisible(), timeout=LONG)
    assert page.keyring_message.tone is Tone.INFO
    assert not page.session_only_box.isChecked()


def test_fix_it_later_saves_a_not_ready_profile(qtbot, profile_store, trusted_secret_store, memory_keyring):
    wizard = make_wizard(qtbot, profile_store, trusted_secret_store, PageId.CONTROLLER)
    page = wizard.controller_page
    qtbot.waitUntil(lambda: page.keyring_message.isVisible(), timeout=LONG)
    page.url_edit.setText("https://fedn.example.org")
    page.token_edit.setText("tok-123")
    fix_later = wizard.button(QWizard.WizardButton.CustomButton1)
    assert fix_later.isVisible()
    with qtbot.waitSignal(wizard.profile_saved, timeout=LONG) as saved:
        fix_later.click()
    profile, start_now = saved.args
    assert start_now is False
    stored = profile_store.get(profile.id)
    assert stored.ready is False
    assert stored.controller_url == "https://fedn.example.org"
    assert stored.approved_checksums == []
    assert memory_keyring.passwords[("fedgui", profile.id)] == "tok-123"
    assert "tok-123" not in profile_store.path_for(profile.id).read_text()
    assert wizard.result() == QWizard.DialogCode.Accepted


def test_fix_it_later_without_keyring_keeps_the_token_in_memory(qtbot, profile_store, no_keyring_store):
    wizard = make_wizard(qtbot, profile_store, no_keyring_store, PageId.CONTROLLER)
    page = wizard.controller_page
    qtbot.waitUntil(lambda: page.session_only_box.isVisible(), timeout=LONG)
    page.url_edit.setText("https://fedn.example.org")
    page.token_edit.setText("tok-456")
    with qtbot.waitSignal(wizard.profile_saved, timeout=LONG) as saved:
        wizard.fix_later()
    profile = saved.args[0]
    assert no_keyring_store.is_session_only(profile.id)
    assert no_keyring_store.get_token(profile.id) == "tok-456"


# -- this computer --------------------------------------------------------------------------------


def test_empty_data_folder_warns(qtbot, tmp_path, profile_store, no_keyring_store):
    wizard = make_wizard(qtbot, profile_store, no_keyring_store, PageId.COMPUTER)
    page = wizard.computer_page
    assert page.name_edit.text()  # the host name by default
    empty = tmp_path / "empty"
    empty.mkdir()
    page.set_folder(empty)
    qtbot.waitUntil(lambda: page.summary.contents is not None, timeout=LONG)
    assert page.summary.message.tone is Tone.WARNING
    assert "no files" in page.summary.message.text()


def test_data_folder_summary_counts_files(qtbot, tmp_path, profile_store, no_keyring_store):
    wizard = make_wizard(qtbot, profile_store, no_keyring_store, PageId.COMPUTER)
    page = wizard.computer_page
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.csv").write_bytes(b"x" * 1500)
    (data / "sub" / "b.csv").write_bytes(b"y" * 500)
    page.set_folder(data)
    qtbot.waitUntil(lambda: page.summary.contents is not None, timeout=LONG)
    text = page.summary.message.text()
    assert "2 files" in text and "2.0 KB" in text and "a.csv" in text
    assert page.isComplete()
    page.validatePage()
    assert wizard.context.profile.data_folder == data.resolve()


def test_missing_data_folder_blocks_next(qtbot, tmp_path, profile_store, no_keyring_store):
    wizard = make_wizard(qtbot, profile_store, no_keyring_store, PageId.COMPUTER)
    page = wizard.computer_page
    page.set_folder(tmp_path / "does-not-exist")
    qtbot.waitUntil(lambda: page.summary.message.tone is Tone.ERROR, timeout=LONG)
    assert "does not exist" in page.summary.message.text()
    assert not page.isComplete()


def test_progress_bar_shows_amount_and_speed(qtbot):
    from fedgui.gui.common.transfer_progress import TransferProgressBar

    bar = TransferProgressBar("Download")
    qtbot.addWidget(bar)
    bar.start()
    bar.update_progress(2_500_000, 10_000_000)
    assert bar.bar.value() == 250
    assert "2.5 MB of 10.0 MB at" in bar.label.text() and "MB/s" in bar.label.text()
    bar.update_progress(1000, None)  # size unknown: a busy bar, still the amount
    assert bar.bar.maximum() == 0 and "1.0 KB" in bar.label.text()


# -- environment ----------------------------------------------------------------------------------


def test_environment_page_without_python_env(qtbot, tmp_path, profile_store, no_keyring_store, package_cache):
    example = find_example_folder()
    assert example is not None
    wizard = ConnectionWizard(profile_store, no_keyring_store, package_cache=package_cache)
    qtbot.addWidget(wizard)
    wizard.context.package = package_cache.prepare_folder(example / "package")
    wizard.setStartId(PageId.ENVIRONMENT)
    wizard.show()
    page = wizard.environment_page
    qtbot.waitUntil(lambda: page.outcome is not None or page.retry_button.isVisible(), timeout=LONG)
    assert page.outcome is not None, page.status.text()
    assert "nothing needs installing" in page.status.text()
    assert str(page.outcome.base.path) in page.interpreter_label.text()
    assert next_enabled(wizard)


def _env_wizard(qtbot, tmp_path, profile_store, secret_store, package_cache, dependencies: list[str]):
    folder = tmp_path / "with-env"
    folder.mkdir()
    deps = "".join(f"  - {dep}\n" for dep in dependencies)
    (folder / "python_env.yaml").write_text(
        "name: wizard-test-env\ndependencies:\n" + deps if deps else "name: wizard-test-env\n",
        encoding="utf-8",
    )
    (folder / "fedn.yaml").write_text("python_env: python_env.yaml\n" + MANIFEST, encoding="utf-8")
    (folder / "validate.py").write_text("print('hi')\n", encoding="utf-8")
    builder = EnvironmentBuilder(tmp_path / "envs")
    wizard = ConnectionWizard(
        profile_store, secret_store, package_cache=package_cache, environment_builder=builder
    )
    qtbot.addWidget(wizard)
    wizard.context.package = package_cache.prepare_folder(folder)
    wizard.setStartId(PageId.ENVIRONMENT)
    wizard.show()
    return wizard


def test_environment_page_builds_a_python_env(
    qtbot, tmp_path, profile_store, no_keyring_store, package_cache
):
    wizard = _env_wizard(qtbot, tmp_path, profile_store, no_keyring_store, package_cache, [])
    page = wizard.environment_page
    qtbot.waitUntil(lambda: page.outcome is not None or page.retry_button.isVisible(), timeout=LONG)
    assert page.outcome is not None, page.status.text()
    assert "wizard-test-env" in page.status.text() and "is ready" in page.status.text()
    assert str(page.outcome.environment.python).startswith(str(tmp_path / "envs"))
    assert page.step_label.text() == "Done."
    assert next_enabled(wizard)


def test_environment_failure_shows_pip_log_and_retry(
    qtbot, tmp_path, profile_store, no_keyring_store, package_cache
):
    # A folder of the package's own that is not there: pip fails at once, without the internet
    # (a path outside the package would be refused before pip runs).
    missing = "./no-such-requirement"
    wizard = _env_wizard(qtbot, tmp_path, profile_store, no_keyring_store, package_cache, [missing])
    page = wizard.environment_page
    qtbot.waitUntil(lambda: page.outcome is not None or page.retry_button.isVisible(), timeout=LONG)
    assert page.outcome is None
    assert page.status.tone is Tone.ERROR
    assert "no-such-requirement" in page.status.text()
    assert "Step 2 of 2" in page.step_label.text()
    assert page.log.toggle.isChecked()  # the pip log opens by itself on failure
    assert page.log.text().strip()
    assert not next_enabled(wizard)


# -- preview failures -----------------------------------------------------------------------------

MANIFEST = (
    "entry_points:\n  train:\n    command: python validate.py\n  validate:\n    command: python validate.py\n"
)
CRASHING_VALIDATE = """\
import sys
print("loading the data", flush=True)
sys.stderr.write("ValueError: column 'age' is missing in patients.csv\\n")
sys.exit(3)
"""


def preview_panel_for(qtbot, package: Path, validate_py: str, package_cache) -> PreviewPanel:
    """A preview panel whose check runs a package (in ``package``) with this ``validate.py`` on
    the bundled example's seed model."""
    package.mkdir()
    (package / "fedn.yaml").write_text(MANIFEST, encoding="utf-8")
    (package / "validate.py").write_text(validate_py, encoding="utf-8")
    example = find_example_folder()
    assert example is not None
    panel = PreviewPanel("&Run the check")
    qtbot.addWidget(panel)
    panel.job_factory = lambda sink, train: Preview(
        package, example / "seed.npz", package.parent, approve=True, sink=sink, package_cache=package_cache
    )
    return panel


def test_crashing_validate_shows_the_stderr_tail(qtbot, tmp_path, package_cache):
    panel = preview_panel_for(qtbot, tmp_path / "crashing", CRASHING_VALIDATE, package_cache)
    with qtbot.waitSignal(panel.finished, timeout=LONG) as finished:
        panel.start()
    assert finished.args == [False]
    text = panel.status.text()
    assert panel.status.tone is Tone.ERROR
    assert "column 'age' is missing" in text  # the stderr tail
    assert "exit code 3" in text
    assert "operator" in text  # the next step
    assert panel.log.view.isVisible() or panel.log.toggle.isChecked()
    assert "loading the data" in panel.log.text()
    assert panel.run_button.text() == "Run &again"


def test_preview_can_be_stopped(qtbot, tmp_path, package_cache):
    slow = "import time\nprint('working', flush=True)\ntime.sleep(60)\n"
    panel = preview_panel_for(qtbot, tmp_path / "slow", slow, package_cache)
    panel.start()
    qtbot.waitUntil(lambda: "working" in panel.log.text(), timeout=LONG)
    with qtbot.waitSignal(panel.finished, timeout=LONG) as finished:
        panel.run_button.click()  # "Stop"
    assert finished.args == [False]
    assert "stopped" in panel.status.text()


def test_closing_the_wizard_mid_check_does_not_crash(qtbot, profile_store, no_keyring_store):
    wizard = make_wizard(qtbot, profile_store, no_keyring_store, PageId.CONTROLLER)
    wizard.controller_page.url_edit.setText(f"http://127.0.0.1:{free_port()}")
    wizard.controller_page.test_button.click()
    wizard.reject()
    wizard.deleteLater()
    qtbot.wait(50)

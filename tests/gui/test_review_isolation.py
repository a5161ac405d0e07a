"""The review says what the package can reach, lets the person allow more for this version, and
where nothing can be isolated, approves nothing until the person agrees."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedgui.core.execution.sandbox import UNISOLATED_WARNING, IsolationSupport
from fedgui.core.package.cache import PackageCache
from fedgui.core.package.permissions import PackagePermissions
from fedgui.gui.review.dialog import PackageReviewDialog
from fedgui.gui.window.status_panel import StatusPanel
from tests.fednet.packages import PACKAGE_FILES
from tests.gui.conftest_wizard import *  # noqa: F403 - fixtures
from tests.gui.conftest_wizard import write_tgz

pytestmark = pytest.mark.gui

LONG = 30_000
BWRAP = IsolationSupport("bwrap", "/usr/bin/bwrap")
# Simulated: the real detection is tested with bwrap missing from PATH in tests/unit.
NONE = IsolationSupport("none", reason="bubblewrap is not installed on this computer.")


@pytest.fixture
def package(tmp_path, package_cache: PackageCache):
    return package_cache.prepare(write_tgz(tmp_path / "p.tgz", dict(PACKAGE_FILES)))


def open_dialog(qtbot, package, **options) -> PackageReviewDialog:
    dialog = PackageReviewDialog(package, **options)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_the_review_says_what_applies_and_reports_what_was_allowed(qtbot, package, tmp_path):
    dialog = open_dialog(qtbot, package, isolation=BWRAP)
    qtbot.waitUntil(dialog.approve_button.isEnabled, timeout=LONG)
    panel = dialog.isolation_panel
    assert panel.summary_text() == "Runs without network access; can read only your data folder."
    assert not panel.network.isChecked() and panel.folders.count() == 0  # off by default
    assert not panel.agree.isVisibleTo(dialog)

    panel.network.setChecked(True)
    panel.add_folder(tmp_path)
    assert panel.summary_text() == (
        "Runs with network access (you allowed it for this version); "
        "can read only your data folder and 1 more folder you chose."
    )
    with qtbot.waitSignal(dialog.approved, timeout=LONG):
        dialog.approve_button.click()
    assert dialog.permissions == PackagePermissions(network=True, read_folders=(Path(tmp_path),))
    assert dialog.run_unisolated is False


def test_without_isolation_nothing_is_approved_until_the_person_agrees(qtbot, package):
    dialog = open_dialog(qtbot, package, isolation=NONE)
    panel = dialog.isolation_panel
    qtbot.waitUntil(lambda: dialog._review_loaded, timeout=LONG)
    assert panel.summary_text() == UNISOLATED_WARNING
    assert panel.warning.isVisibleTo(dialog)
    assert panel.agree.isVisibleTo(dialog) and not panel.agree.isChecked()
    assert not panel.network.isEnabled()  # nothing to allow: nothing is limited
    assert not dialog.approve_button.isEnabled()

    panel.agree.setChecked(True)
    assert dialog.approve_button.isEnabled()
    with qtbot.waitSignal(dialog.approved, timeout=LONG):
        dialog.approve_button.click()
    assert dialog.run_unisolated is True


def test_an_agreement_given_before_is_kept(qtbot, package):
    dialog = open_dialog(qtbot, package, isolation=NONE, unisolated_agreed=True)
    qtbot.waitUntil(dialog.approve_button.isEnabled, timeout=LONG)
    assert dialog.isolation_panel.agree.isChecked()


def test_the_status_panel_shows_the_isolation(qtbot):
    panel = StatusPanel()
    qtbot.addWidget(panel)
    panel.show()
    assert not panel.isolation_label.isVisible()
    panel.set_isolation("Runs without network access; can read only your data folder.")
    assert panel.isolation_label.isVisible()
    assert panel.isolation_label.text() == "Runs without network access; can read only your data folder."

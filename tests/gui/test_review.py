"""The package review widget and dialog with real package archives: file tree, text viewer,
diff of a changed file between two versions, approve / reject."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from fedgui.core.execution.sandbox import IsolationSupport
from fedgui.core.package.cache import PackageCache, PreparedPackage
from fedgui.core.profile import Profile
from fedgui.gui.review.dialog import PackageReviewDialog, rejection_consequence
from fedgui.gui.review.file_tree import CHANGE_ROLE, PATH_ROLE
from fedgui.gui.review.highlighting import DiffHighlighter
from fedgui.gui.review.widget import PackageReviewWidget
from tests.fednet.packages import PACKAGE_FILES
from tests.gui.conftest_wizard import *  # noqa: F403 - fixtures
from tests.gui.conftest_wizard import write_tgz

pytestmark = pytest.mark.gui

LONG = 30_000

NEW_VALIDATE = PACKAGE_FILES["validate.py"].replace('"test_accuracy": 0.4', '"test_accuracy": 0.45')
PYTHON_ENV = "name: numpy-env\nbuild_dependencies:\n  - pip\ndependencies:\n  - numpy==1.26.4\n"


@pytest.fixture
def two_versions(tmp_path, package_cache: PackageCache) -> tuple[PreparedPackage, PreparedPackage]:
    old_files = dict(PACKAGE_FILES, **{"data/README.txt": "old notes\n"})
    new_files = dict(PACKAGE_FILES)
    new_files["validate.py"] = NEW_VALIDATE
    new_files["python_env.yaml"] = PYTHON_ENV
    new_files["fedn.yaml"] = "python_env: python_env.yaml\n" + PACKAGE_FILES["fedn.yaml"]
    old = package_cache.prepare(write_tgz(tmp_path / "v1.tgz", old_files))
    new = package_cache.prepare(write_tgz(tmp_path / "v2.tgz", new_files))
    return old, new


def tree_rows(widget: PackageReviewWidget) -> dict[str, str]:
    """{path: change} for every file row in the tree."""
    model = widget.tree.model()
    rows: dict[str, str] = {}

    def walk(parent) -> None:
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            if index.data(PATH_ROLE):
                rows[index.data(PATH_ROLE)] = index.data(CHANGE_ROLE) or ""
            walk(index)

    from PySide6.QtCore import QModelIndex

    walk(QModelIndex())
    return rows


def load(qtbot, widget: PackageReviewWidget, package, previous=None) -> None:
    with qtbot.waitSignal(widget.loaded, timeout=LONG):
        widget.load(package, previous)


def test_new_package_shows_checksum_commands_files_and_text(qtbot, two_versions):
    old, _new = two_versions
    widget = PackageReviewWidget()
    qtbot.addWidget(widget)
    load(qtbot, widget, old)
    assert old.checksum[:4] in widget.checksum_label.text()
    assert old.checksum in widget.checksum_label.toolTip()
    assert "your user account's rights" in widget.permissions.text()
    commands = {
        widget.commands.topLevelItem(i).text(0): widget.commands.topLevelItem(i).text(1)
        for i in range(widget.commands.topLevelItemCount())
    }
    assert commands == {"train": "python train.py", "validate": "python validate.py"}
    assert "Nothing is installed" in widget.dependencies.toPlainText()
    assert set(tree_rows(widget)) == {"fedn.yaml", "train.py", "validate.py", "data/README.txt"}
    assert widget.tree.isColumnHidden(2)  # no "changed" column for a first version
    assert not widget.tabs.isTabEnabled(1)
    qtbot.waitUntil(lambda: "entry_points" in widget.viewer.toPlainText(), timeout=LONG)  # fedn.yaml first
    assert widget.select_file("train.py")
    qtbot.waitUntil(lambda: "np.savez_compressed" in widget.viewer.toPlainText(), timeout=LONG)
    assert widget.viewer.isReadOnly()
    assert "New package" in widget.changes_label.text()


def test_update_lists_changes_and_diffs_a_changed_file(qtbot, two_versions):
    old, new = two_versions
    widget = PackageReviewWidget()
    qtbot.addWidget(widget)
    load(qtbot, widget, new, old)
    rows = tree_rows(widget)
    assert rows["validate.py"] == "changed"
    assert rows["fedn.yaml"] == "changed"
    assert rows["python_env.yaml"] == "added"
    assert rows["data/README.txt"] == "removed"
    assert rows["train.py"] == ""
    assert "1 added, 1 removed, 2 changed" in widget.changes_label.text()
    assert "numpy==1.26.4" in widget.dependencies.toPlainText()
    assert widget.select_file("validate.py")
    qtbot.waitUntil(lambda: "@@" in widget.diff_view.toPlainText(), timeout=LONG)
    lines = widget.diff_view.toPlainText().splitlines()
    assert any(line.startswith("-") and '"test_accuracy": 0.4}' in line for line in lines)
    assert any(line.startswith("+") and '"test_accuracy": 0.45}' in line for line in lines)
    assert widget.tabs.currentIndex() == 1  # the diff is shown for a changed file
    assert isinstance(widget._diff_highlighter, DiffHighlighter)


def test_removed_file_explains_itself(qtbot, two_versions):
    old, new = two_versions
    widget = PackageReviewWidget()
    qtbot.addWidget(widget)
    load(qtbot, widget, new, old)
    assert widget.select_file("data/README.txt")
    qtbot.waitUntil(lambda: "removed" in widget.viewer.toPlainText(), timeout=LONG)
    qtbot.waitUntil(lambda: "-old notes" in widget.diff_view.toPlainText(), timeout=LONG)


def test_dialog_approve_says_so_and_saves_nothing(qtbot, two_versions, profile_store):
    old, new = two_versions
    profile = Profile.new("Hospital A", "http://127.0.0.1:8092")
    profile.approve(old.checksum)
    profile_store.save(profile)
    saved_before = profile_store.path_for(profile.id).read_bytes()
    dialog = PackageReviewDialog(new, old, last_approved=old.checksum)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.approve_button.isEnabled, timeout=LONG)
    assert "approved before" in dialog.consequence.text()
    assert not dialog.approve_button.isDefault() and not dialog.reject_button.isDefault()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter approves nothing
    assert dialog.isVisible() and dialog.approved_checksum is None
    with qtbot.waitSignal(dialog.approved, timeout=LONG) as approved:
        dialog.approve_button.click()
    assert approved.args == [new.checksum]
    assert dialog.result() == PackageReviewDialog.DialogCode.Accepted
    # The session saves an approval (ProfileStore.update); the dialog never writes the profile.
    assert profile_store.path_for(profile.id).read_bytes() == saved_before


def test_dialog_reject_says_so(qtbot, two_versions):
    old, new = two_versions
    dialog = PackageReviewDialog(new, old, last_approved=old.checksum)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.rejected_package, timeout=LONG) as rejected:
        dialog.reject_button.click()
    assert rejected.args == [new.checksum]
    assert dialog.approved_checksum is None


def test_main_window_review_button_opens_the_review_and_the_session_approves(
    qtbot, window, sessions, two_versions, profile_store
):
    from fedgui.core.events import ReviewNeeded, StateChanged
    from fedgui.core.session.states import SessionState
    from tests.gui.conftest import emit_from_thread

    old, new = two_versions
    window.start_or_resume()
    saved_before = profile_store.path_for(window.controller.profile.id).read_text()
    emit_from_thread(
        window.controller.bus,
        ReviewNeeded(new, old, old.checksum),
        StateChanged(state=SessionState.REVIEW_NEEDED),
    )
    qtbot.waitUntil(lambda: window.status_panel.review_button.isVisibleTo(window))
    qtbot.mouseClick(window.status_panel.review_button, Qt.MouseButton.LeftButton)
    dialog = window._open_dialogs[-1]
    assert isinstance(dialog, PackageReviewDialog)
    qtbot.waitUntil(dialog.approve_button.isEnabled, timeout=LONG)
    assert new.checksum in dialog.review_widget.checksum_label.toolTip()
    dialog.approve_button.click()
    assert ("approve_package", new.checksum) in sessions[0].calls
    assert not dialog.isVisible()
    # The session saves the approval, never the dialog.
    assert profile_store.path_for(window.controller.profile.id).read_text() == saved_before


def test_main_window_reject_reaches_the_session(qtbot, window, sessions, two_versions):
    from fedgui.core.events import ReviewNeeded, StateChanged
    from fedgui.core.session.states import SessionState
    from tests.gui.conftest import emit_from_thread

    _old, new = two_versions
    window.start_or_resume()
    emit_from_thread(
        window.controller.bus,
        ReviewNeeded(new, None, None),
        StateChanged(state=SessionState.REVIEW_NEEDED),
    )
    qtbot.waitUntil(lambda: window.controller.review is not None)
    dialog = window.review_package()
    dialog.reject_button.click()
    assert sessions[0].names()[-1] == "reject_package"


def test_rejection_sentence_without_a_previous_version():
    assert "stays idle" in rejection_consequence(None, None)
    assert "approved before" in rejection_consequence(None, "abcdef0123456789")


def test_a_padded_command_is_shown_whole_with_its_whitespace_marked(qtbot, tmp_path, package_cache):
    # 300 spaces push "; rm -rf ~/data" out of any column: it must still be on screen.
    hidden = "python validate.py" + " " * 300 + "; rm -rf ~/data"
    files = dict(PACKAGE_FILES)
    files["fedn.yaml"] = (
        f"entry_points:\n  train:\n    command: python train.py\n  validate:\n    command: '{hidden}'\n"
    )
    package = package_cache.prepare(write_tgz(tmp_path / "padded.tgz", files))
    widget = PackageReviewWidget()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    load(qtbot, widget, package)
    shown = {
        widget.commands.topLevelItem(i).text(0): widget.commands.topLevelItem(i).text(1)
        for i in range(widget.commands.topLevelItemCount())
    }
    assert shown["validate"] == "python validate.py ⟨300 spaces⟩ ; rm -rf ~/data"
    assert shown["train"] == "python train.py"
    assert widget.hidden_parts_note.isVisible()
    # Long commands wrap instead of ending in "…".
    assert widget.commands.textElideMode() == Qt.TextElideMode.ElideNone and widget.commands.wordWrap()


def test_the_update_review_is_in_plain_words(qtbot, two_versions):
    """What a person reads by default: no checksums, ids or flags (the full checksum is a tooltip)."""
    from tests.gui.jargon import assert_plain

    old, new = two_versions
    dialog = PackageReviewDialog(new, old)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.approve_button.isEnabled, timeout=LONG)
    assert dialog.review_widget.tabs.isTabEnabled(1)  # "Changes": the previous version is known
    assert dialog.review_widget.changes_label.text().startswith("A new version of the code you approved")
    assert_plain(dialog, "the update review")


def test_what_approving_allows_follows_the_isolation_of_this_computer(qtbot, two_versions):
    """The review never says "it can use the network" where the code runs fenced in, and never
    promises a fence this computer does not have."""
    old, _new = two_versions
    widget = PackageReviewWidget()
    qtbot.addWidget(widget)
    load(qtbot, widget, old)
    widget.set_isolation(IsolationSupport("bwrap", "/usr/bin/bwrap"))
    assert "without network access, it can read only your data folder" in widget.permissions.text()
    widget.set_isolation(IsolationSupport("sandbox-exec", "/usr/bin/sandbox-exec"))
    text = widget.permissions.text()
    assert "without network access" in text and "your user account's rights" in text
    widget.set_isolation(IsolationSupport("none", reason="bubblewrap is not installed"))
    assert "it can use the network" in widget.permissions.text()

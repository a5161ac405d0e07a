"""Everything about one compute package that a person should see before approving it."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTabWidget,
    QTreeView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fedgui.core.execution.sandbox import IsolationSupport
from fedgui.core.package.cache import PreparedPackage
from fedgui.core.package.review import PackageReview, build_review
from fedgui.core.package.visible_text import visible_command
from fedgui.gui.common.message import MessageBox, Tone
from fedgui.gui.common.transfer_progress import format_size
from fedgui.gui.review.file_text import FileView, load_file_view
from fedgui.gui.review.file_tree import CHANGE_ROLE, PATH_ROLE, REMOVED, build_file_model
from fedgui.gui.review.highlighting import CodeHighlighter, DiffHighlighter, language_for
from fedgui.gui.threads import run_in_background

#: Files opened first, in this order, so the viewer starts on something meaningful.
FIRST_FILES = ("fedn.yaml", "python_env.yaml")


def describe_changes(review: PackageReview) -> str:
    if not review.is_update:
        return "New package: you have not approved any version of it before."
    assert review.previous_checksum is not None
    counts = f"{len(review.added)} added, {len(review.removed)} removed, {len(review.changed)} changed"
    return f"A new version of the code you approved before. Files: {counts}."


def short_fingerprint(checksum: str) -> str:
    """The first 12 characters of a SHA-256, grouped, to compare by eye (the full one is a tooltip)."""
    return " ".join(checksum[i : i + 4] for i in range(0, 12, 4))


def describe_permissions(review: PackageReview, isolation: IsolationSupport | None = None) -> str:
    """What approving allows, in plain words: a person approves the consequences, not a hash.
    ``isolation`` is how this computer can fence the code in (None: not known yet)."""
    installs = [*review.build_dependencies, *review.dependencies] if review.python_env is not None else []
    names = [dep.split(";")[0].strip() for dep in installs]
    if names:
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        internet = f"fedgui installs these Python packages for it from the internet: {shown}"
    else:
        internet = "nothing is installed from the internet"
    sends = "Your data is not sent by fedgui; the code decides what goes into the update it sends back."
    if isolation is not None and isolation.limits_files:
        return (
            "If you approve, this code runs on this computer fenced in: without network access, it "
            "can read only your data folder and its own files, and it can change only its own "
            f"working files (unless you allow more below). Before it runs, {internet}. {sends}"
        )
    if isolation is not None and isolation.available:
        return (
            "If you approve, this code runs on this computer without network access, but with your "
            "user account's rights: it can read and change what your account can (not only your "
            f"data folder). Before it runs, {internet}. {sends}"
        )
    return (
        "If you approve, this code runs on this computer with your user account's rights: it can read "
        "and change what your account can (not only your data folder), it can use the network, and "
        f"{internet}. {sends}"
    )


def describe_dependencies(review: PackageReview) -> str:
    if review.python_env is None:
        return (
            "Nothing is installed: the package has no python_env, so it runs with the Python "
            "interpreter fedgui finds on this computer."
        )
    lines = [f"These Python packages are installed into a separate environment ({review.python_env.name}):"]
    lines += [f"  • {dep}" for dep in review.build_dependencies + review.dependencies]
    if not review.build_dependencies and not review.dependencies:
        lines.append("  (none listed)")
    return "\n".join(lines)


def _monospace():
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class PackageReviewWidget(QWidget):
    """Call :meth:`load` (hashes files on a worker) or :meth:`show_review` with a ready review."""

    loaded = Signal(object)  # PackageReview
    failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.review: PackageReview | None = None
        self._view_request = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        self.status = MessageBox(self)
        layout.addWidget(self.status)

        summary = QFormLayout()
        self.checksum_label = QLabel(self)
        self.checksum_label.setFont(_monospace())
        self.checksum_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.checksum_label.setAccessibleName("Package fingerprint")
        self.size_label = QLabel(self)
        self.changes_label = QLabel(self)
        self.changes_label.setWordWrap(True)
        summary.addRow("Fingerprint:", self.checksum_label)
        summary.addRow("Size:", self.size_label)
        summary.addRow("Version:", self.changes_label)
        layout.addLayout(summary)
        self.permissions = MessageBox(self)
        self.permissions.setVisible(False)
        self._isolation: IsolationSupport | None = None
        self.permissions.setAccessibleName("What approving allows")
        layout.addWidget(self.permissions)

        row = QHBoxLayout()
        commands_box = QGroupBox("Commands it runs on this computer", self)
        commands_layout = QVBoxLayout(commands_box)
        self.commands = QTreeWidget(commands_box)
        self.commands.setHeaderLabels(["Step", "Command"])
        self.commands.setRootIsDecorated(False)
        self.commands.setAccessibleName("Entry point commands")
        self.commands.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        # Never cut a command: wrap it (anywhere, for long words) instead of eliding it with "…".
        self.commands.setWordWrap(True)
        self.commands.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.commands.setUniformRowHeights(False)
        self.commands.setMaximumHeight(120)  # room for the files and the diff below
        commands_layout.addWidget(self.commands)
        self.hidden_parts_note = QLabel(
            "A command has long runs of spaces or characters that do not show on screen; they are "
            "marked ⟨…⟩ above. Read the whole command before you approve.",
            commands_box,
        )
        self.hidden_parts_note.setWordWrap(True)
        self.hidden_parts_note.hide()
        commands_layout.addWidget(self.hidden_parts_note)
        deps_box = QGroupBox("What it installs", self)
        deps_layout = QVBoxLayout(deps_box)
        self.dependencies = QPlainTextEdit(deps_box)
        self.dependencies.setReadOnly(True)
        self.dependencies.setAccessibleName("Python dependencies")
        self.dependencies.setMaximumHeight(90)
        deps_layout.addWidget(self.dependencies)
        row.addWidget(commands_box, 3)
        row.addWidget(deps_box, 2)
        layout.addLayout(row)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.tree = QTreeView(splitter)
        self.tree.setAccessibleName("Files in the package")
        self.tree.setUniformRowHeights(True)
        self.tabs = QTabWidget(splitter)
        self.viewer = QPlainTextEdit(self.tabs)
        self.viewer.setReadOnly(True)
        self.viewer.setFont(_monospace())
        self.viewer.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.viewer.setAccessibleName("File contents")
        self.diff_view = QPlainTextEdit(self.tabs)
        self.diff_view.setReadOnly(True)
        self.diff_view.setFont(_monospace())
        self.diff_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.diff_view.setAccessibleName("Changes since the approved version")
        self.tabs.addTab(self.viewer, "&File")
        self.tabs.addTab(self.diff_view, "C&hanges")
        self._code_highlighter: CodeHighlighter | None = None
        self._diff_highlighter = DiffHighlighter(self.diff_view.document())
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout.addWidget(splitter, 1)
        self.setTabOrder(self.commands, self.dependencies)
        self.setTabOrder(self.dependencies, self.tree)
        self.setTabOrder(self.tree, self.tabs)
        self.clear()

    # -- loading ----------------------------------------------------------------------------

    def clear(self) -> None:
        self.review = None
        self.status.show_text("", Tone.INFO)
        self.checksum_label.setText("—")
        self.checksum_label.setToolTip("")
        self.permissions.setVisible(False)
        self.size_label.setText("—")
        self.changes_label.setText("—")
        self.commands.clear()
        self.hidden_parts_note.hide()
        self.dependencies.clear()
        self.tree.setModel(None)
        self.viewer.clear()
        self.diff_view.clear()
        self.tabs.setTabEnabled(1, False)

    def load(self, package: PreparedPackage, previous: PreparedPackage | None = None) -> None:
        """Build the review on a worker thread (it hashes every file), then show it."""
        self.clear()
        self.status.show_text("Reading the package's files…", Tone.BUSY)
        run_in_background(
            lambda: build_review(package, previous),
            on_done=self.show_review,
            on_error=self._load_failed,
            owner=self,
        )

    def _load_failed(self, error: BaseException) -> None:
        text = f"The package could not be read: {error}"
        self.status.show_text(text, Tone.ERROR)
        self.failed.emit(text)

    def set_isolation(self, support: IsolationSupport) -> None:
        """How this computer fences packages in; says so in what approving allows."""
        self._isolation = support
        if self.review is not None and shiboken6.isValid(self.permissions):
            self.permissions.show_text(describe_permissions(self.review, support), Tone.WARNING)

    def show_review(self, review: PackageReview) -> None:
        if not shiboken6.isValid(self.viewer):
            return  # the dialog closed while the files were being read
        self.review = review
        self.status.show_text("", Tone.INFO)
        self.checksum_label.setText(short_fingerprint(review.checksum))
        self.checksum_label.setToolTip(f"SHA-256: {review.checksum}")
        self.permissions.show_text(describe_permissions(review, self._isolation), Tone.WARNING)
        size = format_size(review.total_size) + f" unpacked, {len(review.files)} files"
        if review.archive_size is not None:
            size = f"{format_size(review.archive_size)} download, " + size
        self.size_label.setText(size)
        self.changes_label.setText(describe_changes(review))
        self.commands.clear()
        hidden = False
        for name, command in review.entry_points.items():
            shown = visible_command(command)
            hidden = hidden or shown != command
            item = QTreeWidgetItem([name, shown])
            item.setFont(1, _monospace())
            item.setToolTip(1, shown)
            self.commands.addTopLevelItem(item)
        self.hidden_parts_note.setVisible(hidden)
        self.dependencies.setPlainText(describe_dependencies(review))
        self.tree.setModel(build_file_model(review))
        self.tree.expandAll()
        for column in range(3):
            self.tree.header().setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setColumnHidden(2, not review.is_update)
        self.tree.selectionModel().selectionChanged.connect(self._selection_changed)
        self.tabs.setTabEnabled(1, review.is_update)
        self._open_first_file(review)
        self.loaded.emit(review)

    def _open_first_file(self, review: PackageReview) -> None:
        paths = [f.path for f in review.files]
        wanted = (review.changed[:1] if review.is_update else []) + [p for p in FIRST_FILES if p in paths]
        if wanted or paths:
            self.select_file((wanted or paths)[0])

    # -- the viewer -------------------------------------------------------------------------

    def select_file(self, path: str) -> bool:
        """Select ``path`` in the tree (which opens it); False if it is not in the package."""
        model = self.tree.model()
        if model is None:
            return False
        matches = model.match(
            model.index(0, 0), PATH_ROLE, path, 1, Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive
        )
        if not matches:
            return False
        self.tree.setCurrentIndex(matches[0])
        return True

    def _selection_changed(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = [index for index in selected.indexes() if index.column() == 0]
        if not indexes or self.review is None:
            return
        path = indexes[0].data(PATH_ROLE)
        if not path:
            return  # a folder
        change = indexes[0].data(CHANGE_ROLE) or ""
        review = self.review
        self._view_request += 1
        request = self._view_request
        with_diff = review.is_update and bool(change)
        self.viewer.setPlainText("Opening…")
        run_in_background(
            lambda: load_file_view(review, path, with_diff),
            on_done=lambda view: self._show_file(request, view, change),
            on_error=lambda err: self._show_file_error(request, err),
            owner=self,
        )

    def _show_file(self, request: int, view: FileView, change: str) -> None:
        if not shiboken6.isValid(self.viewer) or request != self._view_request:
            return  # the person already chose another file
        self._code_highlighter = None
        self._code_highlighter = CodeHighlighter(self.viewer.document(), language_for(view.path))
        self.viewer.setPlainText(view.text if view.text is not None else view.note)
        self.diff_view.setPlainText(self._diff_text(view, change))
        if change == REMOVED or (change and view.diff):
            self.tabs.setCurrentIndex(1)
        else:
            self.tabs.setCurrentIndex(0)

    @staticmethod
    def _diff_text(view: FileView, change: str) -> str:
        if not change:
            return "This file did not change since the version you approved."
        if view.diff is None:
            return f"This file was {change}; it is not text, so no line-by-line comparison is shown."
        return view.diff or f"This file was {change} (no text lines differ)."

    def _show_file_error(self, request: int, error: BaseException) -> None:
        if request == self._view_request:
            self.viewer.setPlainText(f"This file could not be opened: {error}")

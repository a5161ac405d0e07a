"""Asks the person to approve a (changed) compute package before anything from it runs."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from fedgui.core.execution.sandbox import IsolationSupport, detect_isolation
from fedgui.core.package.cache import PreparedPackage
from fedgui.core.package.permissions import PackagePermissions
from fedgui.gui.review.isolation import IsolationPanel
from fedgui.gui.review.widget import PackageReviewWidget
from fedgui.gui.threads import run_in_background


def rejection_consequence(previous: PreparedPackage | None, last_approved: str | None) -> str:
    """One sentence on what "Reject" means, for the person to read before choosing."""
    checksum = previous.checksum if previous is not None else last_approved
    if checksum:
        return (
            "If you reject it, nothing from this version runs and fedgui keeps to the version you "
            "approved before, so it will not take part until the network goes back to it."
        )
    return "If you reject it, nothing from this package runs and fedgui stays idle."


class PackageReviewDialog(QDialog):
    """Shows the package (and for an update, what changed) and asks for a decision.

    The dialog saves nothing: the ``approved`` / ``rejected_package`` signals tell the caller,
    which hands the answer to the session; the session is the one that saves an approval.
    ``last_approved`` names the version approved before (for what "Reject" means) when
    ``previous`` is no longer in the cache. After ``approved``, :attr:`permissions` and
    :attr:`run_unisolated` say what the person allowed this version beyond the isolation.
    ``isolation``: how this computer isolates packages (default: found out on a worker thread);
    ``unisolated_agreed``: the person already agreed to run packages unisolated here.
    """

    approved = Signal(str)
    rejected_package = Signal(str)

    def __init__(
        self,
        package: PreparedPackage,
        previous: PreparedPackage | None = None,
        parent: QWidget | None = None,
        *,
        last_approved: str | None = None,
        isolation: IsolationSupport | None = None,
        unisolated_agreed: bool = False,
        has_data_folder: bool = True,
    ) -> None:
        super().__init__(parent)
        self.package = package
        self.approved_checksum: str | None = None
        self.permissions = PackagePermissions()
        self.run_unisolated = False
        self._unisolated_agreed = unisolated_agreed
        self._review_loaded = False
        self.setWindowTitle("Review the network's code")
        self.resize(1000, 720)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "The network wants this computer to run the code below on your data. Look at what it "
            "runs and installs; approve it only if you expected it. Your data itself is never sent.",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.review_widget = PackageReviewWidget(self)
        layout.addWidget(self.review_widget, 1)
        # Starts with nothing allowed, also for an update: a new version asks again.
        self.isolation_panel = IsolationPanel(self, has_data_folder=has_data_folder)
        self.isolation_panel.changed.connect(self._update_approve_button)
        layout.addWidget(self.isolation_panel)
        self.consequence = QLabel(rejection_consequence(previous, last_approved), self)
        self.consequence.setWordWrap(True)
        layout.addWidget(self.consequence)
        # A plain row, not a QDialogButtonBox: inside a dialog that box makes its first "accept"
        # button the default, and Enter must never approve code by accident.
        buttons = QHBoxLayout()
        self.approve_button = QPushButton("&Approve and allow it to run", self)
        self.reject_button = QPushButton("&Reject", self)
        for button in (self.approve_button, self.reject_button):
            button.setAutoDefault(False)
            button.setDefault(False)
        self.approve_button.setEnabled(False)
        buttons.addStretch(1)
        buttons.addWidget(self.reject_button)
        buttons.addWidget(self.approve_button)
        self.approve_button.clicked.connect(self._approve)
        self.reject_button.clicked.connect(self.reject)
        layout.addLayout(buttons)
        self.review_widget.loaded.connect(self._loaded)
        self.review_widget.load(package, previous)
        if isolation is not None:
            self.set_isolation(isolation)
        else:
            run_in_background(detect_isolation, self.set_isolation, owner=self)
        self.review_widget.tree.setFocus()  # start on the files, never on "Approve"

    def set_isolation(self, support: IsolationSupport) -> None:
        self.isolation_panel.set_support(support, already_agreed=self._unisolated_agreed)
        self.review_widget.set_isolation(support)

    def _loaded(self, _review: object) -> None:
        self._review_loaded = True
        self._update_approve_button()

    def _update_approve_button(self) -> None:
        # Where nothing can be isolated, not before the person ticked that they agree.
        self.approve_button.setEnabled(self._review_loaded and self.isolation_panel.allows_approval())

    def _approve(self) -> None:
        self.permissions = self.isolation_panel.permissions()
        self.run_unisolated = self.isolation_panel.agreed_unisolated()
        self.approved_checksum = self.package.checksum
        self.approved.emit(self.package.checksum)
        self.accept()

    def reject(self) -> None:
        if self.approved_checksum is None:
            self.rejected_package.emit(self.package.checksum)
        super().reject()

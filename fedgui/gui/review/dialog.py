"""Asks the person to approve a (changed) compute package before anything from it runs."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from fedgui.core.package.cache import PreparedPackage
from fedgui.gui.review.widget import PackageReviewWidget


def rejection_consequence(previous: PreparedPackage | None, last_approved: str | None) -> str:
    """One sentence on what "Reject" means, for the person to read before choosing."""
    checksum = previous.checksum if previous is not None else last_approved
    if checksum:
        return (
            f"If you reject it, nothing from this version runs and fedgui keeps to the version you "
            f"approved before ({checksum[:12]}…), so it will not take part until the network goes back to it."
        )
    return "If you reject it, nothing from this package runs and fedgui stays idle."


class PackageReviewDialog(QDialog):
    """Shows the package (and for an update, what changed) and asks for a decision.

    The dialog saves nothing: the ``approved`` / ``rejected_package`` signals tell the caller,
    which hands the answer to the session; the session is the one that saves an approval.
    ``last_approved`` names the version approved before (for what "Reject" means) when
    ``previous`` is no longer in the cache.
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
    ) -> None:
        super().__init__(parent)
        self.package = package
        self.approved_checksum: str | None = None
        self.setWindowTitle("Review the compute package")
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
        self.review_widget.loaded.connect(lambda _review: self.approve_button.setEnabled(True))
        self.review_widget.load(package, previous)
        self.review_widget.tree.setFocus()  # start on the files, never on "Approve"

    def _approve(self) -> None:
        self.approved_checksum = self.package.checksum
        self.approved.emit(self.package.checksum)
        self.accept()

    def reject(self) -> None:
        if self.approved_checksum is None:
            self.rejected_package.emit(self.package.checksum)
        super().reject()

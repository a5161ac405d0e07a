"""Asks the person to approve a (changed) compute package before anything from it runs."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from fedgui.core.package.cache import PreparedPackage
from fedgui.core.profile import Profile, ProfileStore
from fedgui.gui.common.message import MessageBox, Tone
from fedgui.gui.review.widget import PackageReviewWidget
from fedgui.gui.workers import run_in_background


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
    """Shows the package (and for an update, what changed); Approve records the checksum.

    With ``profile`` (and ``profile_store``) the approval is written to the profile; either way
    :attr:`approved_checksum` and the ``approved`` signal tell the caller.
    """

    approved = Signal(str)
    rejected_package = Signal(str)

    def __init__(
        self,
        package: PreparedPackage,
        previous: PreparedPackage | None = None,
        parent: QWidget | None = None,
        *,
        profile: Profile | None = None,
        profile_store: ProfileStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.package = package
        self.profile = profile
        self.profile_store = profile_store
        self.approved_checksum: str | None = None
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
        last = profile.last_approved_checksum if profile else None
        self.consequence = QLabel(rejection_consequence(previous, last), self)
        self.consequence.setWordWrap(True)
        layout.addWidget(self.consequence)
        self.error = MessageBox(self)
        self.error.setVisible(False)
        layout.addWidget(self.error)
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
        checksum = self.package.checksum
        if self.profile is None or self.profile_store is None:
            if self.profile is not None:
                self.profile.approve(checksum)
            self._approved(checksum)
            return
        profile, store = self.profile, self.profile_store
        self.approve_button.setEnabled(False)

        def save() -> None:
            profile.approve(checksum)
            store.save(profile)

        run_in_background(save, on_done=lambda _r: self._approved(checksum), on_error=self._save_failed)

    def _approved(self, checksum: str) -> None:
        self.approved_checksum = checksum
        self.approved.emit(checksum)
        self.accept()

    def _save_failed(self, error: BaseException) -> None:
        self.approve_button.setEnabled(True)
        self.error.show_text(f"The approval could not be saved: {error}", Tone.ERROR)

    def reject(self) -> None:
        if self.approved_checksum is None:
            self.rejected_package.emit(self.package.checksum)
        super().reject()

"""Asks the person to approve a (changed) compute package before anything from it runs."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from fedgui.core.execution.sandbox import IsolationSupport, detect_isolation
from fedgui.core.package.cache import PreparedPackage
from fedgui.core.package.permissions import PackagePermissions
from fedgui.core.profile import Profile, ProfileStore
from fedgui.gui.common.message import MessageBox, Tone
from fedgui.gui.review.isolation import IsolationPanel
from fedgui.gui.review.widget import PackageReviewWidget
from fedgui.gui.workers import run_in_background


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
    """Shows the package (and for an update, what changed); Approve records the checksum.

    With ``profile`` (and ``profile_store``) the approval is written to the profile; either way
    :attr:`approved_checksum` and the ``approved`` signal tell the caller, and :attr:`permissions`
    and :attr:`run_unisolated` what the person allowed this version beyond the isolation.
    ``isolation``: how this computer isolates packages (default: found out on a worker thread).
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
        isolation: IsolationSupport | None = None,
    ) -> None:
        super().__init__(parent)
        self.package = package
        self.profile = profile
        self.profile_store = profile_store
        self.approved_checksum: str | None = None
        self.permissions = PackagePermissions()
        self.run_unisolated = False
        self._review_loaded = False
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
        has_data = profile is None or profile.data_folder is not None
        # Starts with nothing allowed, also for an update: a new version asks again.
        self.isolation_panel = IsolationPanel(self, has_data_folder=has_data)
        self.isolation_panel.changed.connect(self._update_approve_button)
        layout.addWidget(self.isolation_panel)
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
        self.review_widget.loaded.connect(self._loaded)
        self.review_widget.load(package, previous)
        if isolation is not None:
            self._isolation_known(isolation)
        else:
            run_in_background(detect_isolation, on_done=self._isolation_known)
        self.review_widget.tree.setFocus()  # start on the files, never on "Approve"

    def _loaded(self, _review: object) -> None:
        self._review_loaded = True
        self._update_approve_button()

    def _isolation_known(self, support: IsolationSupport) -> None:
        agreed = self.profile.run_unisolated_agreed if self.profile is not None else False
        self.isolation_panel.set_support(support, already_agreed=agreed)

    def _update_approve_button(self) -> None:
        self.approve_button.setEnabled(self._review_loaded and self.isolation_panel.allows_approval())

    def _approve(self) -> None:
        checksum = self.package.checksum
        permissions = self.permissions = self.isolation_panel.permissions()
        run_unisolated = self.run_unisolated = self.isolation_panel.agreed_unisolated()

        def change(profile: Profile) -> None:
            profile.approve(checksum, permissions)
            if run_unisolated:
                profile.run_unisolated_agreed = True

        if self.profile is None or self.profile_store is None:
            if self.profile is not None:
                change(self.profile)
            self._approved(checksum)
            return
        profile, store = self.profile, self.profile_store
        self.approve_button.setEnabled(False)

        def save() -> None:
            change(profile)
            # Only these fields: the settings dialog or a session may have saved others meanwhile.
            if store.path_for(profile.id).exists():
                store.update(profile.id, change)
            else:
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

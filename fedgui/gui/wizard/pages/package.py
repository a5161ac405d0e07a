"""Page 4: download the network's compute package, verify it, show it, and ask for approval."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout

from fedgui.core.execution.sandbox import detect_isolation
from fedgui.core.package.cache import PreparedPackage
from fedgui.core.progress import throttled
from fedgui.gui.common.message import MessageBox, Tone, plain_error
from fedgui.gui.common.transfer_progress import TransferProgressBar
from fedgui.gui.review.widget import PackageReviewWidget
from fedgui.gui.threads import main_thread_sink, run_in_background
from fedgui.gui.wizard.context import WizardContext
from fedgui.gui.wizard.pages.base import WizardPageBase

REJECTED_TEXT = (
    "You rejected this package: nothing from it will run, and this computer cannot take part "
    "until you approve one. Press “I'll fix it later” to save the connection without it."
)


def download_and_prepare(context: WizardContext, progress) -> tuple[Path, PreparedPackage]:
    """Blocking: stream the package to the wizard's folder, verify it and unpack it safely."""
    expected = context.profile.package_checksum_pin or context.controller_checksum
    folder = context.work_dir() / "package"
    folder.mkdir(parents=True, exist_ok=True)
    client = context.controller()
    try:
        archive = client.download_package(folder, progress=progress)
    finally:
        client.close()
    return archive, context.package_cache.prepare(archive, expected_checksum=expected)


def describe_verification(controller_checksum: str | None, pin: str | None) -> str:
    if pin:
        return "Verified: the download is exactly the code named in your configuration file."
    if controller_checksum:
        return "Verified: the download is exactly the code the network published."
    return (
        "The network publishes no fingerprint of its code, so fedgui shows the download's own "
        "fingerprint below; compare it with the one your project admin gave you, if any."
    )


class PackagePage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("The compute package")
        self.setSubTitle(
            "This is the code the network wants to run on this computer, on your data. Nothing runs "
            "until you approve it."
        )
        self._downloading = False
        layout = QVBoxLayout(self)
        self.progress = TransferProgressBar("Download", self)
        layout.addWidget(self.progress)
        self.status = MessageBox(self)
        layout.addWidget(self.status)
        self.review = PackageReviewWidget(self)
        layout.addWidget(self.review, 1)
        # What approving allows depends on whether this computer can fence the code in.
        run_in_background(detect_isolation, self.review.set_isolation, owner=self)
        row = QHBoxLayout()
        self.retry_button = QPushButton("&Download again", self)
        self.retry_button.setVisible(False)
        self.approve_button = QPushButton("&Approve", self)
        self.reject_button = QPushButton("&Reject", self)
        for button in (self.approve_button, self.reject_button):
            button.setAutoDefault(False)  # Enter must not approve code by accident
            button.setEnabled(False)
        row.addWidget(self.retry_button)
        row.addStretch(1)
        row.addWidget(self.reject_button)
        row.addWidget(self.approve_button)
        layout.addLayout(row)
        self.decision = MessageBox(self)
        self.decision.setVisible(False)
        layout.addWidget(self.decision)
        self._progress_sink: Callable[[tuple[int, int | None]], None] = main_thread_sink(
            lambda value: self.progress.update_progress(*value), owner=self
        )
        self.retry_button.clicked.connect(self.start_download)
        self.approve_button.clicked.connect(self.approve)
        self.reject_button.clicked.connect(self.reject)
        self.review.loaded.connect(self._review_ready)

    def initializePage(self) -> None:
        if self.context.package is None and not self._downloading:
            self.approve_button.setEnabled(False)
            self.reject_button.setEnabled(False)
            self.start_download()

    def start_download(self) -> None:
        context = self.context
        self._downloading = True
        self.retry_button.setVisible(False)
        self.review.clear()
        self.decision.setVisible(False)
        self.progress.start()
        self.status.show_text("Downloading the network's code…", Tone.BUSY)
        progress = throttled(lambda done, total: self._progress_sink((done, total)))
        self.background(lambda: download_and_prepare(context, progress), self._downloaded, self._failed)

    def _downloaded(self, result: tuple[Path, PreparedPackage]) -> None:
        self._downloading = False
        archive, package = result
        context = self.context
        if context.package is None or context.package.checksum != package.checksum:
            context.environment = None  # built for another package
        context.package_archive, context.package = archive, package
        self.progress.complete(package.archive_size)
        pin = context.profile.package_checksum_pin
        self.status.show_text(describe_verification(context.controller_checksum, pin), Tone.OK)
        previous = None
        last = context.profile.last_approved_checksum
        if last and last != package.checksum:
            previous = context.package_cache.get(last)
        self.review.load(package, previous)
        if package.checksum in context.profile.approved_checksums:
            self._show_decision(True)

    def _failed(self, error: BaseException) -> None:
        self._downloading = False
        self.progress.reset()
        self.status.show_text(plain_error(error), Tone.ERROR)
        self.retry_button.setVisible(True)

    def _review_ready(self, _review: object) -> None:
        self.approve_button.setEnabled(True)
        self.reject_button.setEnabled(True)

    def approve(self) -> None:
        context = self.context
        assert context.package is not None
        context.profile.approve(context.package.checksum)
        self._show_decision(True)

    def reject(self) -> None:
        context = self.context
        if context.package is not None and context.package.checksum in context.profile.approved_checksums:
            context.profile.approved_checksums.remove(context.package.checksum)
            if context.profile.last_approved_checksum == context.package.checksum:
                context.profile.last_approved_checksum = None
        self._show_decision(False)

    def _show_decision(self, approved: bool) -> None:
        context = self.context
        context.package_approved = approved
        if approved:
            assert context.package is not None
            self.decision.show_text(
                "Approved. fedgui will run this code, and asks you again if the network changes it.",
                Tone.OK,
            )
        else:
            self.decision.show_text(REJECTED_TEXT, Tone.WARNING)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.context.package_approved and not self._downloading

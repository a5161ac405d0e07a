"""Page 3: this computer's name in the network, and the folder that holds the data."""

from __future__ import annotations

import socket
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from fedgui.gui.common.folder_summary import FolderContents, FolderSummary, summarize_folder
from fedgui.gui.common.message import Tone, plain_error
from fedgui.gui.wizard.pages.base import WizardPageBase

SUMMARY_DELAY_MS = 400  # wait until the person stops typing a path before counting files


def default_client_name() -> str:
    return socket.gethostname() or "my-computer"


class ComputerPage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("This computer")
        self.setSubTitle(
            "Choose how this computer is named in the network and which folder holds your data. "
            "The data stays here: the package reads it on this computer only."
        )
        self._request = 0
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.name_edit = QLineEdit(self)
        self.name_edit.setAccessibleName("Client name")
        self.name_edit.setToolTip("The network's admin sees this name in the list of clients.")
        self.add_field(form, "Client na&me:", self.name_edit)
        self.folder_edit = QLineEdit(self)
        self.folder_edit.setAccessibleName("Data folder")
        self.folder_edit.setPlaceholderText("the folder that holds your data")
        self.choose_button = QPushButton("&Choose…", self)
        self.add_field(form, "&Data folder:", self.folder_edit, self.choose_button)
        layout.addLayout(form)
        self.summary = FolderSummary(self)
        layout.addWidget(self.summary)
        layout.addStretch(1)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SUMMARY_DELAY_MS)
        self._debounce.timeout.connect(self._summarize)
        self.choose_button.clicked.connect(self.choose_folder)
        self.folder_edit.textChanged.connect(self._folder_typed)
        self.name_edit.textChanged.connect(lambda _text: self.completeChanged.emit())

    def initializePage(self) -> None:
        profile = self.context.profile
        self.name_edit.setText(profile.client_name or default_client_name())
        if profile.data_folder and not self.folder_edit.text():
            self.folder_edit.setText(str(profile.data_folder))

    def choose_folder(self) -> None:
        start = self.folder_edit.text() or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Choose the folder that holds your data", start)
        if folder:
            self.set_folder(Path(folder))

    def set_folder(self, folder: Path) -> None:
        self.folder_edit.setText(str(folder))
        self._debounce.stop()
        self._summarize()

    def _folder_typed(self) -> None:
        self.summary.clear()
        self.completeChanged.emit()
        if self.folder_edit.text().strip():
            self._debounce.start()

    def _summarize(self) -> None:
        text = self.folder_edit.text().strip()
        if not text:
            return
        folder = Path(text).expanduser()
        self._request += 1
        request = self._request
        self.summary.show_counting(folder)
        self.background(
            lambda: summarize_folder(folder),
            lambda contents: self._summarized(request, contents),
            self._failed,
        )

    def _summarized(self, request: int, contents: FolderContents) -> None:
        if request == self._request:
            self.summary.show_contents(contents)
            self.completeChanged.emit()

    def _failed(self, error: BaseException) -> None:
        self.summary.message.show_text(f"The folder could not be read. {plain_error(error)}", Tone.ERROR)

    def isComplete(self) -> bool:
        contents = self.summary.contents
        return bool(self.name_edit.text().strip()) and contents is not None and contents.problem is None

    def validatePage(self) -> bool:
        profile = self.context.profile
        profile.client_name = self.name_edit.text().strip()
        assert self.summary.contents is not None
        profile.data_folder = self.summary.contents.folder.resolve()
        self.context.data_file_count = self.summary.contents.file_count
        return True

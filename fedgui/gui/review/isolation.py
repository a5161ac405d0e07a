"""The review's "What it can reach" box: the isolation that applies, in one sentence, and what
the person may allow this version beyond it (network access, extra folders to read).

Where this computer cannot isolate packages, it says so plainly and the person must tick that
they agree before the package may run.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fedgui.core.execution.sandbox import UNISOLATED_WARNING, IsolationSupport, describe
from fedgui.core.package.permissions import PackagePermissions
from fedgui.gui.common.message import MessageBox, Tone


class IsolationPanel(QGroupBox):
    """Call :meth:`set_support` once the computer's isolation is known (it starts a probe)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, has_data_folder: bool = True) -> None:
        super().__init__("What it can reach on this computer", parent)
        self.support: IsolationSupport | None = None
        self.has_data_folder = has_data_folder
        layout = QVBoxLayout(self)
        self.summary = QLabel("Checking how this computer can isolate the package…", self)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("What the package can reach")
        layout.addWidget(self.summary)
        self.warning = MessageBox(self)
        self.warning.setVisible(False)
        layout.addWidget(self.warning)
        self.agree = QCheckBox(
            "I trust this package: run it with my &rights (remembered for this connection)", self
        )
        self.agree.setVisible(False)
        layout.addWidget(self.agree)

        self.network = QCheckBox(
            "Allow &network access for this version (off unless it needs a download)", self
        )
        self.network.setToolTip(
            "Only for this exact version: a new version of the package starts without network access again."
        )
        layout.addWidget(self.network)
        folders_row = QHBoxLayout()
        self.folders = QListWidget(self)
        self.folders.setAccessibleName("Extra folders it may read")
        self.folders.setMaximumHeight(60)
        self.add_folder_button = QPushButton("Let it read a &folder…", self)
        self.remove_folder_button = QPushButton("Re&move", self)
        self.remove_folder_button.setEnabled(False)
        # In a dialog every button is an "auto default" that Enter presses; Enter in the review
        # must never open a folder chooser (nor approve anything).
        for button in (self.add_folder_button, self.remove_folder_button):
            button.setAutoDefault(False)
        folders_row.addWidget(self.folders, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_folder_button)
        buttons.addWidget(self.remove_folder_button)
        buttons.addStretch(1)
        folders_row.addLayout(buttons)
        layout.addLayout(folders_row)

        self.network.toggled.connect(self._refresh)
        self.agree.toggled.connect(self._refresh)
        self.add_folder_button.clicked.connect(self._choose_folder)
        self.remove_folder_button.clicked.connect(self._remove_folder)
        self.folders.itemSelectionChanged.connect(
            lambda: self.remove_folder_button.setEnabled(bool(self.folders.selectedItems()))
        )
        self._set_permission_controls_enabled(False)

    # -- state -------------------------------------------------------------------------------

    def set_support(self, support: IsolationSupport, already_agreed: bool = False) -> None:
        self.support = support
        unavailable = not support.available
        self.warning.setVisible(unavailable)
        self.agree.setVisible(unavailable)
        if unavailable:
            why = f" Why: {support.reason}" if support.reason else ""
            self.warning.show_text(
                f"{UNISOLATED_WARNING}{why} Nothing from it runs unless you agree below. To isolate it "
                "instead, install bubblewrap (Debian/Ubuntu: sudo apt install bubblewrap).",
                Tone.WARNING,
            )
            self.agree.setChecked(already_agreed)
        # Without isolation there is nothing to allow: the summary and the permissions step aside.
        self.summary.setVisible(not unavailable)
        for widget in (self.network, self.folders, self.add_folder_button, self.remove_folder_button):
            widget.setVisible(not unavailable)
        self._set_permission_controls_enabled(support.available)
        self._refresh()

    def add_folder(self, folder: Path) -> None:
        if str(folder) not in self._folder_texts():
            self.folders.addItem(str(folder))
        self._refresh()

    def permissions(self) -> PackagePermissions:
        return PackagePermissions(
            network=self.network.isChecked(), read_folders=tuple(Path(text) for text in self._folder_texts())
        )

    def agreed_unisolated(self) -> bool:
        return self.agree.isVisible() and self.agree.isChecked()

    def allows_approval(self) -> bool:
        """False until the isolation is known, and where there is none, until the person agreed."""
        if self.support is None:
            return False
        return self.support.available or self.agree.isChecked()

    def summary_text(self) -> str:
        return self.summary.text()

    # -- internals ---------------------------------------------------------------------------

    def _folder_texts(self) -> list[str]:
        return [self.folders.item(row).text() for row in range(self.folders.count())]

    def _set_permission_controls_enabled(self, enabled: bool) -> None:
        for widget in (self.network, self.folders, self.add_folder_button):
            widget.setEnabled(enabled)

    def _refresh(self) -> None:
        if self.support is not None:
            self.summary.setText(describe(self.support, self.permissions(), self.has_data_folder))
        self.changed.emit()

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A folder the package may read (never change)")
        if folder:
            self.add_folder(Path(folder))

    def _remove_folder(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))
        self._refresh()

"""A read-only window showing one task's saved log file (loaded off the UI thread)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from fedgui.gui.threads import run_in_background

#: Bigger logs show only their end: the start of a huge log is rarely what a person looks for.
MAX_SHOWN_BYTES = 4 * 1024 * 1024


def read_log_tail(path: Path, max_bytes: int = MAX_SHOWN_BYTES) -> tuple[str, bool]:
    """The file's text (its last ``max_bytes`` if larger) and whether it was cut."""
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        cut = size > max_bytes
        handle.seek(max(0, size - max_bytes))
        data = handle.read()
    text = data.decode("utf-8", errors="replace")
    if cut:
        text = text.split("\n", 1)[-1]  # drop the partial first line
    return text, cut


class LogFileViewer(QDialog):
    def __init__(self, path: Path | None, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(900, 600)
        self.path = path
        self.header = QLabel(str(path) if path else "")
        self.header.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Task log")
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlainText("Loading…")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.loaded = False
        if path is None:
            self._show_error(FileNotFoundError())
        else:
            run_in_background(
                lambda: read_log_tail(path), on_done=self._show, on_error=self._show_error, owner=self
            )

    def _show(self, result: tuple[str, bool]) -> None:
        text, cut = result
        self.text.setPlainText(text or "(This task wrote nothing to its log.)")
        if cut:
            self.header.setText(
                f"{self.path} — only the last {MAX_SHOWN_BYTES // (1024 * 1024)} MB are shown"
            )
        self.loaded = True

    def _show_error(self, error: BaseException) -> None:
        self.text.setPlainText(
            "This task's log file is not there any more. Old logs are removed after the number of "
            "days set in Settings (keep logs for)."
            if isinstance(error, FileNotFoundError)
            else f"The log file could not be read: {error}"
        )
        self.loaded = True

"""A one-paragraph status message with an icon: info, busy, ok, warning or error."""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStyle, QWidget

from fedgui.core.errors import FedguiError


def plain_error(error: BaseException) -> str:
    """What to show a person: a FedguiError's message and next step; anything else, wrapped."""
    if isinstance(error, FedguiError):
        return str(error)
    detail = str(error).strip()
    what = error.__class__.__name__ + (f": {detail}" if detail else "")
    return (
        f"Something unexpected went wrong ({what}). Try again; if it keeps happening, "
        "send this message to the operator of your network."
    )


class Tone(enum.Enum):
    INFO = "info"
    BUSY = "busy"
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


_ICONS = {
    Tone.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
    Tone.BUSY: QStyle.StandardPixmap.SP_BrowserReload,
    Tone.OK: QStyle.StandardPixmap.SP_DialogApplyButton,
    Tone.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
    Tone.ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
}


class MessageBox(QFrame):
    """Icon + wrapped, selectable text. Uses style icons only, so it follows the OS theme."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tone = Tone.INFO
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        self.icon_label = QLabel(self)
        self.icon_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text_label = QLabel(self)
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.icon_label)
        layout.addWidget(self.text_label, 1)

    def show_text(self, text: str, tone: Tone = Tone.INFO) -> None:
        self.tone = tone
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self.icon_label.setPixmap(self.style().standardIcon(_ICONS[tone]).pixmap(size, size))
        self.text_label.setText(text)
        self.setAccessibleDescription(text)
        self.setVisible(bool(text))

    def text(self) -> str:
        return self.text_label.text()

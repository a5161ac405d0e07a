"""A "Details" expander: technical facts (addresses, ids, checksums) for support, closed by default.

Text a person sees by default stays in plain words; what support needs to read (the server's
address and port, a package's full checksum) goes in here. Widgets inside carry
``DETAILS_PROPERTY`` so the plain-words test (tests/gui/jargon.py) skips them even when open.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QToolButton, QVBoxLayout, QWidget

#: A widget property: True on a details area, whose text may name internals.
DETAILS_PROPERTY = "fedgui_details"


def mark_as_details(widget: QWidget) -> QWidget:
    widget.setProperty(DETAILS_PROPERTY, True)
    return widget


def expander_toggle(title: str, parent: QWidget) -> QToolButton:
    """The ``title ▸`` button that opens and closes an expander (this one and ExpandableLog's)."""
    toggle = QToolButton(parent)
    toggle.setText(title)
    toggle.setCheckable(True)
    toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    toggle.setArrowType(expander_arrow(False))
    toggle.setAccessibleName(title)
    return toggle


def expander_arrow(expanded: bool) -> Qt.ArrowType:
    return Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow


class DetailsExpander(QWidget):
    """``Details ▸`` toggle and selectable lines under it; ``set_lines([...])`` fills it."""

    def __init__(self, title: str = "Details", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.toggle = expander_toggle(title, self)
        self.toggle.setAutoRaise(True)
        self.body = QLabel(self)
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.PlainText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.setVisible(False)
        mark_as_details(self.body)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.body)
        self.toggle.toggled.connect(self.set_expanded)
        self.set_lines([])

    def set_expanded(self, expanded: bool) -> None:
        self.toggle.setChecked(expanded)
        self.toggle.setArrowType(expander_arrow(expanded))
        self.body.setVisible(expanded)

    def set_lines(self, lines: list[str]) -> None:
        self.body.setText("\n".join(lines))
        self.setVisible(bool(lines))

    def text(self) -> str:
        return self.body.text()

"""A vertical list of checks, each pending / running / passed / failed / skipped, in words."""

from __future__ import annotations

import enum

from PySide6.QtWidgets import QGridLayout, QLabel, QStyle, QWidget


class CheckState(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


_ICONS = {
    CheckState.PENDING: None,
    CheckState.RUNNING: QStyle.StandardPixmap.SP_BrowserReload,
    CheckState.PASSED: QStyle.StandardPixmap.SP_DialogApplyButton,
    CheckState.FAILED: QStyle.StandardPixmap.SP_DialogCancelButton,
    CheckState.SKIPPED: QStyle.StandardPixmap.SP_MessageBoxInformation,
}
# Words next to the icon: a screen reader (and a colour-blind person) gets the state too.
_WORDS = {
    CheckState.PENDING: "not checked yet",
    CheckState.RUNNING: "checking…",
    CheckState.PASSED: "yes",
    CheckState.FAILED: "no",
    CheckState.SKIPPED: "not checked",
}


class Checklist(QWidget):
    """``Checklist([(key, question), ...])``; ``set_state(key, state, detail)``."""

    def __init__(self, items: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setColumnStretch(2, 1)
        self._rows: dict[str, tuple[QLabel, QLabel, QLabel, str]] = {}
        self.states: dict[str, CheckState] = {}
        for row, (key, question) in enumerate(items):
            icon, title, detail = QLabel(self), QLabel(question, self), QLabel(self)
            detail.setWordWrap(True)
            self._grid.addWidget(icon, row, 0)
            self._grid.addWidget(title, row, 1)
            self._grid.addWidget(detail, row, 2)
            self._rows[key] = (icon, title, detail, question)
            self.set_state(key, CheckState.PENDING)

    def reset(self) -> None:
        for key in self._rows:
            self.set_state(key, CheckState.PENDING)

    def set_state(self, key: str, state: CheckState, detail: str = "") -> None:
        icon, _title, detail_label, question = self._rows[key]
        self.states[key] = state
        pixmap_id = _ICONS[state]
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        if pixmap_id is None:
            icon.clear()
            icon.setFixedSize(size, size)
        else:
            icon.setPixmap(self.style().standardIcon(pixmap_id).pixmap(size, size))
        text = detail or _WORDS[state]
        if detail and state in (CheckState.PASSED, CheckState.FAILED):
            text = f"{_WORDS[state].capitalize()}: {detail}"
        detail_label.setText(text)
        detail_label.setAccessibleName(f"{question} {text}")

    def detail(self, key: str) -> str:
        return self._rows[key][2].text()

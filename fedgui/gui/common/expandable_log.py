"""A "Show details" toggle with a read-only monospace log under it, appended in batches.

Lines arrive from worker threads through ``gui.threads.main_thread_sink``; appending each line
on its own would freeze the UI on a flood (see the qt-lab numbers), so lines wait in a bounded
buffer and a timer adds them every 100 ms.
"""

from __future__ import annotations

import collections

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

from fedgui.gui.common.details import expander_arrow, expander_toggle

MAX_LINES = 5000
FLUSH_MS = 100


class ExpandableLog(QWidget):
    expanded_changed = Signal(bool)

    def __init__(self, title: str = "Show details", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.toggle = expander_toggle(title, self)
        self.view = QPlainTextEdit(self)
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(MAX_LINES)
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.view.setAccessibleName(title.replace("Show ", "").capitalize())
        self.view.setVisible(False)
        layout.addWidget(self.toggle)
        layout.addWidget(self.view, 1)
        self.toggle.toggled.connect(self.set_expanded)
        self._pending: collections.deque[str] = collections.deque(maxlen=MAX_LINES)
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self._flush)

    def set_expanded(self, expanded: bool) -> None:
        self.toggle.setChecked(expanded)
        self.toggle.setArrowType(expander_arrow(expanded))
        if self.view.isVisibleTo(self) != expanded:
            self.view.setVisible(expanded)
            self.expanded_changed.emit(expanded)

    def append_line(self, text: str) -> None:
        self._pending.append(text)
        if not self._timer.isActive():
            self._timer.start()

    def clear(self) -> None:
        self._pending.clear()
        self.view.clear()

    def text(self) -> str:
        self._flush()
        return self.view.toPlainText()

    def _flush(self) -> None:
        if not self._pending:
            self._timer.stop()
            return
        lines = list(self._pending)
        self._pending.clear()
        self.view.appendPlainText("\n".join(lines))
        self.view.verticalScrollBar().setValue(self.view.verticalScrollBar().maximum())
        # Appending moves the view to the end of the last (maybe very long) line; show line starts.
        self.view.horizontalScrollBar().setValue(0)

"""The live log's data: a bounded ring of lines and a list model over the lines that pass the filter.

Why a list model and not a text document: a :class:`QListView` with uniform row heights only
lays out and paints the rows on screen, so adding or dropping thousands of lines costs a few
list operations, whereas a text document re-lays out every block it touches (qt-lab measured
~18 µs per evicted line in a capped QPlainTextEdit). Rows keep the original
:class:`~fedgui.core.events.LogLine` objects; their display text is made only when painted.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from fedgui.core.events import LogLine

LEVEL_ORDER = {"debug": 0, "info": 1, "warning": 2, "error": 3}

#: How a source is named to a person; unknown sources are shown as they are.
SOURCE_NAMES = {
    "client": "fedgui (this app)",
    "train": "training",
    "validate": "validation",
    "predict": "prediction",
    "startup": "package start-up",
    "build": "package build",
    "pip": "installing packages",
}


def source_label(source: str) -> str:
    return SOURCE_NAMES.get(source, source)


def format_line(line: LogLine) -> str:
    """One line as shown and as saved: local time, who wrote it, the text."""
    stamp = time.strftime("%H:%M:%S", time.localtime(line.timestamp))
    return f"{stamp}  {line.source:<9} {line.text}"


@dataclass
class LogFilter:
    """Which lines are shown: a minimum level and the sources the person switched off."""

    min_level: str = "info"
    hidden_sources: set[str] = field(default_factory=set)

    def accepts(self, line: LogLine) -> bool:
        return (
            LEVEL_ORDER.get(line.level, 1) >= LEVEL_ORDER[self.min_level]
            and line.source not in self.hidden_sources
        )


class LogListModel(QAbstractListModel):
    """Rows = the newest ``capacity`` lines that pass the filter. Add lines with :meth:`append`."""

    #: A batch at least this big replaces the rows in one reset: cheaper than an insert and an
    #: eviction of nearly everything, and the view does one layout instead of two.
    RESET_FRACTION = 0.5

    def __init__(self, capacity: int, parent=None) -> None:
        super().__init__(parent)
        self.capacity = capacity
        self._rows: list[LogLine] = []
        self._icons: dict[str, object] = {}

    def set_level_icons(self, icons: dict[str, object]) -> None:
        """Icons (by level) shown before warning and error lines."""
        self._icons = icons

    # --- Qt model interface -------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = index.row()
        if row >= len(self._rows):
            return None
        line = self._rows[row]
        if role == Qt.ItemDataRole.DisplayRole:
            return format_line(line)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icons.get(line.level)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{source_label(line.source)} · {line.stream} · {line.level}"
        if role == Qt.ItemDataRole.UserRole:
            return line
        return None

    # --- changes ----------------------------------------------------------------------------

    def append(self, lines: Sequence[LogLine]) -> int:
        """Add lines at the end, dropping the oldest beyond capacity; returns how many rows were
        dropped from the top (the view uses it to keep a scrolled-up position steady)."""
        if not lines:
            return 0
        if len(lines) > self.capacity:
            lines = lines[-self.capacity :]
        overflow = len(self._rows) + len(lines) - self.capacity
        if len(lines) >= self.capacity * self.RESET_FRACTION or overflow >= len(self._rows):
            dropped = max(0, overflow)
            self.beginResetModel()
            self._rows = (self._rows + list(lines))[-self.capacity :]
            self.endResetModel()
            return dropped
        dropped = 0
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            del self._rows[:overflow]
            self.endRemoveRows()
            dropped = overflow
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(lines) - 1)
        self._rows.extend(lines)
        self.endInsertRows()
        return dropped

    def replace(self, lines: Iterable[LogLine]) -> None:
        self.beginResetModel()
        self._rows = list(lines)[-self.capacity :]
        self.endResetModel()

    def clear(self) -> None:
        self.replace([])

    # --- reading ----------------------------------------------------------------------------

    def line(self, row: int) -> LogLine:
        return self._rows[row]

    def lines(self) -> list[LogLine]:
        return list(self._rows)

    def find(self, needle: str, start: int, backwards: bool = False) -> int | None:
        """Row of the next line containing ``needle`` (any case) after/before ``start``, wrapping."""
        if not needle or not self._rows:
            return None
        needle = needle.casefold()
        count = len(self._rows)
        step = -1 if backwards else 1
        for offset in range(1, count + 1):
            row = (start + step * offset) % count
            if needle in self._rows[row].text.casefold():
                return row
        return None


class LogRing:
    """The newest ``capacity`` lines, whatever the filter says, so a filter change can rebuild
    the rows without asking anyone. Memory is bounded by ``capacity``."""

    def __init__(self, capacity: int) -> None:
        self._lines: deque[LogLine] = deque(maxlen=capacity)
        self.sources: dict[str, None] = {}  # insertion-ordered set of sources seen

    def extend(self, lines: Sequence[LogLine]) -> list[str]:
        """Store lines; returns sources seen for the first time."""
        self._lines.extend(lines)
        new_sources = []
        for line in lines:
            if line.source not in self.sources:
                self.sources[line.source] = None
                new_sources.append(line.source)
        return new_sources

    def filtered(self, log_filter: LogFilter) -> list[LogLine]:
        return [line for line in self._lines if log_filter.accepts(line)]

    def __len__(self) -> int:
        return len(self._lines)

    def clear(self) -> None:
        self._lines.clear()

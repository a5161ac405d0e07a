"""The live log's data: a bounded ring of lines and a list model over the lines that pass the filter.

Why a :class:`QStringListModel` in a :class:`QListView`, and not a text document or a Python
model: a list view with uniform row heights lays out and paints only the rows on screen, and
with a model implemented in C++ painting never calls into Python. That matters while an entry
point floods its output: the runner's threads hold the GIL most of the time, and every call from
Qt into Python (a Python ``data()`` runs ~10 times per painted row) waits for it, up to the 5 ms
switch interval each. Measured (tests/bench/ui_latency.py, 200k lines): a Python
``QAbstractListModel`` made one model reset cost 20-35 ms during a flood and the event loop's
p99 lateness ~70 ms; with this design a batch is one ``setStringList`` call and p99 is ~12 ms
(a capped QPlainTextEdit rebuilt with setPlainText, the qt-lab design: ~40 ms). The rows'
:class:`~fedgui.core.events.LogLine` objects are kept in a parallel Python list for search,
copy and save.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QStringListModel

from fedgui.core.events import LogLine

LEVEL_ORDER = {"debug": 0, "info": 1, "warning": 2, "error": 3}
#: Said in words, so that it reads the same on every theme and to a screen reader.
LEVEL_PREFIX = {"warning": "Warning: ", "error": "Error: "}

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

_stamps: dict[int, str] = {}


def source_label(source: str) -> str:
    return SOURCE_NAMES.get(source, source)


def _stamp(timestamp: float) -> str:
    # strftime is the slowest part of formatting a line; a flood has thousands per second.
    second = int(timestamp)
    text = _stamps.get(second)
    if text is None:
        if len(_stamps) > 4096:
            _stamps.clear()
        text = _stamps[second] = time.strftime("%H:%M:%S", time.localtime(second))
    return text


def format_line(line: LogLine) -> str:
    """One line as shown and as saved: local time, who wrote it, the text."""
    return f"{_stamp(line.timestamp)}  {line.source:<9} {LEVEL_PREFIX.get(line.level, '')}{line.text}"


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


class LogListModel(QStringListModel):
    """Rows = the newest ``capacity`` lines that pass the filter. Add lines with :meth:`append`.

    Only Python *methods* are added here; no Qt virtual is overridden, so the view's calls stay
    in C++."""

    #: Batches up to this size are inserted row by row (the selection survives); bigger ones
    #: replace the list in one call.
    INSERT_LIMIT = 200

    def __init__(self, capacity: int, parent=None) -> None:
        super().__init__(parent)
        self.capacity = capacity
        self._rows: list[LogLine] = []
        self._texts: list[str] = []

    # --- changes ----------------------------------------------------------------------------

    def append(self, lines: Sequence[LogLine]) -> int:
        """Add lines at the end, dropping the oldest beyond capacity; returns how many rows were
        dropped from the top (the view uses it to keep a scrolled-up position steady)."""
        if not lines:
            return 0
        if len(lines) > self.capacity:
            lines = lines[-self.capacity :]
        texts = [format_line(line) for line in lines]
        overflow = max(0, len(self._rows) + len(lines) - self.capacity)
        if len(lines) > self.INSERT_LIMIT or overflow >= len(self._rows):
            self._rows = (self._rows + list(lines))[-self.capacity :]
            self._texts = (self._texts + texts)[-self.capacity :]
            self.setStringList(self._texts)
            return overflow
        if overflow:
            self.removeRows(0, overflow)
            del self._rows[:overflow]
            del self._texts[:overflow]
        first = len(self._rows)
        self.insertRows(first, len(lines))
        for offset, text in enumerate(texts):
            self.setData(self.index(first + offset), text)
        self._rows.extend(lines)
        self._texts.extend(texts)
        return overflow

    def replace(self, lines: Iterable[LogLine]) -> None:
        self._rows = list(lines)[-self.capacity :]
        self._texts = [format_line(line) for line in self._rows]
        self.setStringList(self._texts)

    def clear(self) -> None:
        self.replace([])

    # --- reading ----------------------------------------------------------------------------

    def line(self, row: int) -> LogLine:
        return self._rows[row]

    def lines(self) -> list[LogLine]:
        return list(self._rows)

    def text(self, row: int) -> str:
        return self._texts[row]

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

    def row_count(self) -> int:
        return len(self._rows)


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
        for source in dict.fromkeys(line.source for line in lines):  # C-speed de-duplication
            if source not in self.sources:
                self.sources[source] = None
                new_sources.append(source)
        return new_sources

    def filtered(self, log_filter: LogFilter) -> list[LogLine]:
        return [line for line in self._lines if log_filter.accepts(line)]

    def __len__(self) -> int:
        return len(self._lines)

    def clear(self) -> None:
        self._lines.clear()

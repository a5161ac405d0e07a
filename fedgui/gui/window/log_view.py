"""The live log: what the compute package prints and what fedgui does, as it happens.

Lines arrive from any thread through :meth:`LogView.submit` (a bounded deque; no Qt call), and
a 50 ms timer moves them into the view in one batch. This keeps the UI responsive through
floods of hundreds of thousands of lines (see tests/bench/ui_latency.py for the figures):
per-line signals or appends would each cost the UI thread a slot call and a layout. Memory is
bounded: at most ``capacity`` lines wait, ``capacity`` are kept in the ring and shown; lines
that scroll by faster than that are still in each task's log file (History tab).
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fedgui.core.events import Event, EventBus, LogLine
from fedgui.gui.threads import run_in_background
from fedgui.gui.window.log_model import LogFilter, LogListModel, LogRing, format_line, source_label

DEFAULT_CAPACITY = 10_000
FLUSH_INTERVAL_MS = 50
#: A batch this big (100 000 lines a second at 50 ms) is a flood nobody can read as it scrolls by.
FLOOD_BATCH = 5_000
#: During a flood each batch shows only its newest lines; the full view is rebuilt from the ring
#: once the flood calms down. This keeps a flush at ~1-2 ms instead of ~5 ms.
FLOOD_SHOWN = 2_000

LEVEL_CHOICES = (
    ("Normal messages", "info"),
    ("Everything, with technical details", "debug"),
    ("Warnings and errors", "warning"),
    ("Errors only", "error"),
)


class LogView(QWidget):
    """Filterable, searchable live log with auto-scroll that pauses while the person reads."""

    saved = Signal(str)  # path of a saved log file
    save_failed = Signal(str)

    def __init__(self, capacity: int = DEFAULT_CAPACITY, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.capacity = capacity
        self._pending: deque[LogLine] = deque(maxlen=capacity)  # filled from any thread
        self._ring = LogRing(capacity)
        self._filter = LogFilter()
        self._follow = True
        self._flooding = False
        self._stale = False  # rows miss lines from a flood that ended while scrolled up
        self._ignore_scroll = False
        self._unsubscribe: Callable[[], None] | None = None

        self.model = LogListModel(capacity, self)
        self._build()

        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self.flush)
        self._flush_timer.start()

    # --- layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        self.search_field = QLineEdit()
        self.search_field.setPlaceholderText("Find in log (Ctrl+F)")
        self.search_field.setAccessibleName("Find in log")
        self.search_field.setClearButtonEnabled(True)
        self.search_field.returnPressed.connect(self.find_next)
        self.find_prev_button = QPushButton("Previous")
        self.find_prev_button.setToolTip("Find the previous line with this text (Shift+F3)")
        self.find_prev_button.clicked.connect(self.find_previous)
        self.find_next_button = QPushButton("Ne&xt")
        self.find_next_button.setToolTip("Find the next line with this text (F3)")
        self.find_next_button.clicked.connect(self.find_next)
        self.search_status = QLabel()

        self.level_choice = QComboBox()
        self.level_choice.setAccessibleName("Which messages to show")
        for label, level in LEVEL_CHOICES:
            self.level_choice.addItem(label, level)
        self.level_choice.currentIndexChanged.connect(self._level_chosen)
        level_label = QLabel("Messa&ges:")
        level_label.setBuddy(self.level_choice)

        self.sources_button = QPushButton("Written &by…")
        self.sources_button.setToolTip("Choose whose messages to show")
        self.sources_button.setAccessibleName("Choose whose messages to show")
        self.sources_menu = QMenu(self.sources_button)
        self.sources_button.setMenu(self.sources_menu)

        self.copy_button = QPushButton("Cop&y")
        self.copy_button.setToolTip("Copy the selected lines (or all shown lines if none is selected)")
        self.copy_button.clicked.connect(self.copy_selection)
        self.save_button = QPushButton("Sav&e…")
        self.save_button.setToolTip("Save the shown lines to a text file (Ctrl+S)")
        self.save_button.clicked.connect(self.ask_and_save)

        tools = QHBoxLayout()
        tools.addWidget(self.search_field, 3)
        tools.addWidget(self.find_prev_button)
        tools.addWidget(self.find_next_button)
        tools.addWidget(self.search_status)
        tools.addSpacing(12)
        tools.addWidget(level_label)
        tools.addWidget(self.level_choice, 2)
        tools.addWidget(self.sources_button)
        tools.addStretch(1)
        tools.addWidget(self.copy_button)
        tools.addWidget(self.save_button)

        self.list_view = QListView()
        self.list_view.setAccessibleName("Live log")
        self.list_view.setModel(self.model)
        self.list_view.setUniformItemSizes(True)  # lets the view skip measuring every row
        self.list_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.list_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        self.list_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.list_view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        copy_action = QAction("Copy", self.list_view)
        copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy_action.triggered.connect(self.copy_selection)
        self.list_view.addAction(copy_action)

        scrollbar = self.list_view.verticalScrollBar()
        scrollbar.valueChanged.connect(self._scrolled)
        scrollbar.rangeChanged.connect(self._range_changed)

        self.latest_button = QPushButton("&Jump to the latest lines")
        self.latest_button.setToolTip("New lines keep arriving; scroll to the end and follow them again")
        self.latest_button.clicked.connect(self.follow_latest)
        self.latest_button.hide()
        self.count_label = QLabel()
        footer = QHBoxLayout()
        footer.addWidget(self.count_label, 1)
        footer.addWidget(self.latest_button)

        layout = QVBoxLayout(self)
        layout.addLayout(tools)
        layout.addWidget(self.list_view, 1)
        layout.addLayout(footer)

        for sequence, slot in (
            (QKeySequence.StandardKey.Find, self.focus_search),
            (QKeySequence.StandardKey.FindNext, self.find_next),
            (QKeySequence.StandardKey.FindPrevious, self.find_previous),
            (QKeySequence.StandardKey.Save, self.ask_and_save),
        ):
            action = QAction(self)
            action.setShortcut(sequence)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
        self.setTabOrder(self.search_field, self.find_prev_button)
        self.setTabOrder(self.find_prev_button, self.find_next_button)
        self.setTabOrder(self.find_next_button, self.level_choice)
        self.setTabOrder(self.level_choice, self.sources_button)
        self.setTabOrder(self.sources_button, self.copy_button)
        self.setTabOrder(self.copy_button, self.save_button)
        self.setTabOrder(self.save_button, self.list_view)
        self._update_count()

    # --- feeding ------------------------------------------------------------------------------

    def attach(self, bus: EventBus) -> None:
        """Take log lines straight from the bus (any thread) into the pending batch."""
        self.detach()
        self._unsubscribe = bus.subscribe(self._observe)

    def detach(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None

    def _observe(self, event: Event) -> None:
        if isinstance(event, LogLine):
            self._pending.append(event)  # deque.append is thread-safe; no Qt here

    def submit(self, line: LogLine) -> None:
        """Queue one line for the next batch; safe from any thread."""
        self._pending.append(line)

    def flush(self) -> None:
        """Move pending lines into the view (runs on the 50 ms timer; tests call it directly)."""
        pending = self._pending
        if not pending:
            if self._flooding:
                self._end_flood()
            return
        batch: list[LogLine] = []
        pop = pending.popleft
        try:
            for _ in range(len(pending)):
                batch.append(pop())
        except IndexError:  # drained concurrently: never happens with one consumer, harmless
            pass
        for source in self._ring.extend(batch):
            self._add_source_choice(source)
        if len(batch) >= FLOOD_BATCH:
            self._flooding = True
            if self._follow:  # someone reading older lines keeps them still until they come back
                newest = [line for line in batch[-2 * FLOOD_SHOWN :] if self._filter.accepts(line)]
                with self._programmatic_scroll():
                    self.model.replace(newest[-FLOOD_SHOWN:])
        elif self._flooding:
            self._end_flood()
            return
        else:
            self._append(batch)
        self._update_count()

    def _end_flood(self) -> None:
        """The flood is over: show the full, gap-free newest lines again (from the ring)."""
        self._flooding = False
        if self._follow:
            self._refilter()
        else:
            self._stale = True  # rebuilt when the person comes back to the end

    def _append(self, batch: list[LogLine]) -> None:
        shown = [line for line in batch if self._filter.accepts(line)]
        scrollbar = self.list_view.verticalScrollBar()
        reading_at = scrollbar.value()
        with self._programmatic_scroll():
            dropped = self.model.append(shown)
            if not self._follow:
                # Keep the lines the person is reading in place while older ones drop off the top.
                scrollbar.setValue(max(0, reading_at - dropped))

    def clear(self) -> None:
        self._pending.clear()
        self._ring.clear()
        self.model.clear()
        self._update_count()

    # --- filters ------------------------------------------------------------------------------

    def _add_source_choice(self, source: str) -> None:
        action = QAction(source_label(source), self.sources_menu)
        action.setCheckable(True)
        action.setChecked(source not in self._filter.hidden_sources)
        action.setData(source)
        action.toggled.connect(lambda on, s=source: self.set_source_shown(s, on))
        self.sources_menu.addAction(action)

    def sources(self) -> list[str]:
        return list(self._ring.sources)

    def set_source_shown(self, source: str, shown: bool) -> None:
        if shown:
            self._filter.hidden_sources.discard(source)
        else:
            self._filter.hidden_sources.add(source)
        for action in self.sources_menu.actions():
            if action.data() == source and action.isChecked() != shown:
                action.setChecked(shown)
        self._refilter()

    def set_min_level(self, level: str) -> None:
        index = self.level_choice.findData(level)
        if index >= 0 and index != self.level_choice.currentIndex():
            self.level_choice.setCurrentIndex(index)  # calls _level_chosen
        elif self._filter.min_level != level:
            self._filter.min_level = level
            self._refilter()

    def _level_chosen(self, index: int) -> None:
        self._filter.min_level = self.level_choice.itemData(index)
        self._refilter()

    def _refilter(self) -> None:
        self._stale = False
        with self._programmatic_scroll():
            self.model.replace(self._ring.filtered(self._filter))
        self._update_count()
        if self._follow:
            self.list_view.scrollToBottom()

    # --- auto-scroll --------------------------------------------------------------------------

    @property
    def following(self) -> bool:
        return self._follow

    @contextlib.contextmanager
    def _programmatic_scroll(self) -> Iterator[None]:
        # Model changes move the scroll bar too (a reset jumps to the top); only the person's
        # own scrolling may switch following on or off.
        self._ignore_scroll = True
        try:
            yield
        finally:
            self._ignore_scroll = False
        if self._follow:
            self.list_view.scrollToBottom()

    def _scrolled(self, value: int) -> None:
        if self._ignore_scroll:
            return
        scrollbar = self.list_view.verticalScrollBar()
        self._follow = value >= scrollbar.maximum()
        self.latest_button.setVisible(not self._follow)
        if self._follow and self._stale:
            self._refilter()

    def _range_changed(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.list_view.verticalScrollBar().setValue(maximum)

    def follow_latest(self) -> None:
        self._follow = True
        self.latest_button.hide()
        if self._stale:
            self._refilter()
        self.list_view.scrollToBottom()

    # --- search -------------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_field.selectAll()

    def find_next(self) -> bool:
        return self._find(backwards=False)

    def find_previous(self) -> bool:
        return self._find(backwards=True)

    def _find(self, backwards: bool) -> bool:
        needle = self.search_field.text()
        if not needle:
            self.search_status.clear()
            return False
        current = self.list_view.currentIndex()
        start = current.row() if current.isValid() else (self.model.rowCount() if backwards else -1)
        row = self.model.find(needle, start, backwards)
        if row is None:
            self.search_status.setText("Not found")
            return False
        self.search_status.clear()
        index = self.model.index(row)
        self.list_view.setCurrentIndex(index)
        self.list_view.selectionModel().select(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.list_view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        return True

    # --- copy and save ------------------------------------------------------------------------

    def selected_text(self) -> str:
        rows = sorted(index.row() for index in self.list_view.selectionModel().selectedIndexes())
        lines = [self.model.line(r) for r in rows] if rows else self.model.lines()
        return "\n".join(format_line(line) for line in lines)

    def copy_selection(self) -> None:
        QApplication.clipboard().setText(self.selected_text())

    def ask_and_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the log", str(Path.home() / "fedgui-log.txt"), "Text files (*.txt);;All files (*)"
        )
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> None:
        """Write the shown lines to ``path`` on a worker thread; emits :attr:`saved` or
        :attr:`save_failed` when done."""
        text = "\n".join(format_line(line) for line in self.model.lines()) + "\n"

        def write() -> str:
            Path(path).write_text(text, encoding="utf-8")
            return str(path)

        run_in_background(write, on_done=self.saved.emit, on_error=self._save_error, owner=self)

    def _save_error(self, error: BaseException) -> None:
        message = f"The log could not be saved: {error}"
        self.save_failed.emit(message)
        if self.isVisible():
            box = QMessageBox(
                QMessageBox.Icon.Warning, "Could not save the log", message + "\n\nTry another folder."
            )
            box.setParent(self, box.windowFlags())
            box.open()  # not exec(): never a nested event loop from a worker's callback

    def _update_count(self) -> None:
        shown = self.model.rowCount()
        self.count_label.setText(
            f"{shown:,} lines shown. Only the newest {self.capacity:,} are kept here; "
            "each task's full log is in the History tab."
        )

"""The history of this computer's tasks: one row per task, newest first.

Rows come from :class:`~fedgui.core.history.HistoryStore`, read on a worker thread. Double-click
(or Enter) opens the task's own log file.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from fedgui.core.history.records import TaskRecord
from fedgui.core.history.store import HistoryStore
from fedgui.gui.common import theme
from fedgui.gui.common.metric_names import is_count, metric_label
from fedgui.gui.threads import run_in_background

#: Metrics shown in the "key metric" column, first one present wins.
KEY_METRIC_PREFERENCE = (
    "accuracy",
    "test_accuracy",
    "val_accuracy",
    "validation_accuracy",
    "f1",
    "auc",
    "loss",
    "test_loss",
    "val_loss",
    "training_loss",
    "num_examples",
)

KIND_WORDS = {
    "train": "Training",
    "validate": "Validation",
    "predict": "Prediction",
    "startup": "Package start-up",
    "preview": "Check before training",
}
STATUS_WORDS = {
    "ok": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "interrupted": "Interrupted",
    "running": "Running…",
}
STATUS_ICONS = {
    "ok": "state-ready",
    "failed": "state-error",
    "cancelled": "state-stopped",
    "interrupted": "state-attention",
    "running": "state-working",
}
COLUMNS = ("Round", "Task", "Started", "Duration", "Result", "Key metric")


@dataclass(frozen=True)
class HistoryRow:
    task: TaskRecord
    key_metric: str  # e.g. "accuracy 0.912", or ""


def pick_key_metric(values: dict) -> str:
    """The most telling number of a task's metrics, as words and a number ("Test loss 0.21")."""
    numeric = {k: v for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if not numeric:
        return ""
    learning = sorted(k for k in numeric if not is_count(k))
    if not learning:
        learning = ["num_examples"] if "num_examples" in numeric else sorted(numeric)
    key = next((k for k in KEY_METRIC_PREFERENCE if k in learning), learning[0])
    return f"{metric_label(key)} {format_number(numeric[key])}"


def training_key_metric(history: HistoryStore, task_id: str) -> str:
    """For a training: the package's own loss (its last FEDGUI_METRIC value) when it reports one,
    else its other last reported values, else the training metadata (examples, epochs)."""
    last: dict = {}
    for metric in history.metrics_for(task_id, "live"):
        if metric.is_number:
            last[metric.key] = metric.value
    losses = {k: v for k, v in last.items() if "loss" in k.lower()}
    if losses or last:
        return pick_key_metric(losses or last)
    values = {m.key: m.value for m in history.metrics_for(task_id, "training_metadata") if m.is_number}
    return pick_key_metric(values)


def format_number(value: float) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 1):
        return f"{int(value):,}"
    return f"{value:.4g}"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def format_time(epoch: float) -> str:
    local = time.localtime(epoch)
    if time.strftime("%Y-%m-%d", local) == time.strftime("%Y-%m-%d"):
        return time.strftime("today %H:%M", local)
    return time.strftime("%Y-%m-%d %H:%M", local)


def load_history_rows(history: HistoryStore, profile_id: str | None, limit: int = 500) -> list[HistoryRow]:
    """Read tasks and their key metric (runs on a worker thread: it queries SQLite)."""
    rows = []
    for task in history.tasks(profile_id, limit=limit):
        metric = ""
        if task.status == "ok" and task.kind == "train":
            metric = training_key_metric(history, task.id)
        elif task.status == "ok" and task.kind in ("validate", "preview"):
            values = {m.key: m.value for m in history.metrics_for(task.id, "validation") if m.is_number}
            metric = pick_key_metric(values)
        rows.append(HistoryRow(task, metric))
    return rows


class HistoryModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[HistoryRow] = []

    def set_rows(self, rows: list[HistoryRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        task = row.task
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell_text(row, column)
        if role == Qt.ItemDataRole.DecorationRole and column == 4:
            return theme.icon(STATUS_ICONS.get(task.status, "state-idle"))
        if role == Qt.ItemDataRole.ToolTipRole:
            if task.error:
                return f"What went wrong: {task.error}"
            return "Double-click to open this task's log"
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None

    @staticmethod
    def cell_text(row: HistoryRow, column: int) -> str:
        task = row.task
        if column == 0:
            return task.round_id or "—"
        if column == 1:
            return KIND_WORDS.get(task.kind, task.kind)
        if column == 2:
            return format_time(task.started_at)
        if column == 3:
            return format_duration(task.duration)
        if column == 4:
            words = STATUS_WORDS.get(task.status, task.status)
            if task.error and task.status != "ok":
                first_line = task.error.strip().splitlines()[0] if task.error.strip() else ""
                return f"{words}: {first_line}" if first_line else words
            return words
        return row.key_metric


class HistoryTable(QWidget):
    """Table of past tasks with a details line for the selected one."""

    log_requested = Signal(object)  # TaskRecord whose log the person wants to read
    loaded = Signal(int)  # number of rows after a reload

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history: HistoryStore | None = None
        self.profile_id: str | None = None
        self.model = HistoryModel(self)
        self.table = QTableView()
        self.table.setAccessibleName("Task history")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self.table.doubleClicked.connect(self._open_index)
        self.table.activated.connect(self._open_index)  # Enter on a row: keyboard users too
        self.table.selectionModel().currentRowChanged.connect(self._show_details)

        self.details = QLabel("Double-click a task to read its log.")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open lo&g…")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(lambda: self._open_index(self.table.currentIndex()))
        self.refresh_button = QPushButton("Reloa&d")
        self.refresh_button.clicked.connect(self.reload)
        buttons = QHBoxLayout()
        buttons.addWidget(self.details, 1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.refresh_button)
        self.empty_label = QLabel(
            "No tasks yet. They appear here as soon as the network asks this computer to work."
        )
        self.empty_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def set_source(self, history: HistoryStore | None, profile_id: str | None) -> None:
        self.history = history
        self.profile_id = profile_id
        self.reload()

    def reload(self) -> None:
        if self.history is None:
            self.model.set_rows([])
            self.empty_label.show()
            return
        history, profile_id = self.history, self.profile_id
        run_in_background(
            lambda: load_history_rows(history, profile_id),
            on_done=self._set_rows,
            on_error=lambda error: self.details.setText(f"The history could not be read: {error}"),
            owner=self,
        )

    def _set_rows(self, rows: list[HistoryRow]) -> None:
        self.model.set_rows(rows)
        self.empty_label.setVisible(not rows)
        self.loaded.emit(len(rows))

    def _show_details(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.open_button.setEnabled(current.isValid())
        if not current.isValid():
            return
        task = self.model.rows[current.row()].task
        text = f"{KIND_WORDS.get(task.kind, task.kind)}, round {task.round_id or '—'}: "
        text += STATUS_WORDS.get(task.status, task.status)
        if task.error:
            text += f". What went wrong: {task.error}"
        self.details.setText(text)

    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.log_requested.emit(self.model.rows[index.row()].task)

    def log_path_for(self, task: TaskRecord) -> Path | None:
        if task.log_path:
            return task.log_path
        return self.history.task_log_path(task.id) if self.history else None

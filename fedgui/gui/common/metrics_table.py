"""Metrics of one or more runs side by side: one row per metric, one column per run."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from fedgui.gui.common.metric_names import metric_label


def format_metric(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "not a number (NaN)"
        if math.isinf(value):
            return "infinite"
        return f"{value:.4g}"
    return str(value)


class MetricsTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setAccessibleName("Metrics")
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)

    def show_metrics(self, columns: Mapping[str, Mapping[str, Any]]) -> None:
        """``{"Current model": {"accuracy": 0.9}, "After training": {...}}``."""
        names: list[str] = []
        for values in columns.values():
            names += [name for name in values if name not in names]
        self.clear()
        self.setColumnCount(1 + len(columns))
        self.setHorizontalHeaderLabels(["Metric", *columns])
        self.setRowCount(len(names))
        for row, name in enumerate(names):
            label = QTableWidgetItem(metric_label(name))  # words; the package's own key in the tooltip
            label.setToolTip(name)
            label.setData(Qt.ItemDataRole.UserRole, name)
            self.setItem(row, 0, label)
            for col, values in enumerate(columns.values(), start=1):
                item = QTableWidgetItem(format_metric(values[name]) if name in values else "")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(row, col, item)

    def metric_text(self, name: str, column: int = 1) -> str | None:
        for row in range(self.rowCount()):
            first = self.item(row, 0)
            if first is not None and first.data(Qt.ItemDataRole.UserRole) == name:
                cell = self.item(row, column)
                return cell.text() if cell else None
        return None

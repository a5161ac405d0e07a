"""CPU and memory of the running entry point, from :class:`~fedgui.core.events.ResourceUsage`."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QFormLayout, QLabel, QProgressBar, QWidget

from fedgui.core.events import ResourceUsage


def format_bytes(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024
    return f"{count:,.1f} GB"  # unreachable; keeps type checkers calm


class ResourceMeter(QWidget):
    """Two bars: processor use (of all cores) and memory, with the peak of the current task."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cores = os.cpu_count() or 1
        self.peak_rss = 0
        self.cpu_bar = QProgressBar()
        self.cpu_bar.setRange(0, 100)
        self.cpu_bar.setAccessibleName("Processor use of the running task")
        self.cpu_label = QLabel()
        self.memory_label = QLabel()
        self.memory_label.setAccessibleName("Memory use of the running task")
        self.note = QLabel()
        self.note.setWordWrap(True)
        layout = QFormLayout(self)
        layout.addRow("Processor:", self.cpu_bar)
        layout.addRow("", self.cpu_label)
        layout.addRow("Memory:", self.memory_label)
        layout.addRow(self.note)
        self.reset()

    def reset(self) -> None:
        """No task running: clear the figures."""
        self.peak_rss = 0
        self.cpu_bar.setValue(0)
        self.cpu_label.setText("No task is running.")
        self.memory_label.setText("—")
        self.note.setText(
            "These figures show how much of this computer the network's code uses while it trains "
            "or validates. You can limit it in Settings (processor threads)."
        )

    def update_usage(self, usage: ResourceUsage) -> None:
        share = usage.cpu_percent / self.cores  # psutil counts 100 % per core
        self.cpu_bar.setValue(max(0, min(100, round(share))))
        self.cpu_label.setText(
            f"{share:.0f} % of this computer ({usage.cpu_percent / 100:.1f} of {self.cores} cores)"
        )
        self.peak_rss = max(self.peak_rss, usage.rss_bytes)
        self.memory_label.setText(
            f"{format_bytes(usage.rss_bytes)} (highest during this task: {format_bytes(self.peak_rss)})"
        )

    def summary(self) -> str:
        """A short line for the status area."""
        if not self.peak_rss:
            return ""
        return f"{self.cpu_label.text().split(' (')[0]}, {self.memory_label.text().split(' (')[0]} memory"

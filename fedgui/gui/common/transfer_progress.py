"""A progress bar that also says how much is done and how fast (MB/s)."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget


def format_size(size: int | None) -> str:
    """1536 -> '1.5 KB' (decimal units, as file managers on most systems show them)."""
    if size is None:
        return "unknown size"
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover - unreachable


class TransferProgressBar(QWidget):
    """``start()``, then ``update_progress(done, total)`` from the UI thread; total may be None."""

    def __init__(self, what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.what = what
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar(self)
        self.bar.setAccessibleName(f"{what} progress")
        self.label = QLabel(self)
        layout.addWidget(self.bar)
        layout.addWidget(self.label)
        self._started = time.monotonic()
        self.reset()

    def reset(self) -> None:
        self.bar.setRange(0, 100)
        self.bar.setValue(0)
        self.label.setText("")

    def start(self) -> None:
        self._started = time.monotonic()
        self.bar.setRange(0, 0)  # busy until the first byte tells us the size
        self.label.setText(f"Starting {self.what.lower()}…")

    def update_progress(self, done: int, total: int | None) -> None:
        elapsed = max(time.monotonic() - self._started, 1e-3)
        speed = done / elapsed / 1e6
        if total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * min(done, total) / total))
            amount = f"{format_size(done)} of {format_size(total)}"
        else:
            self.bar.setRange(0, 0)
            amount = format_size(done)
        self.label.setText(f"{amount} at {speed:.1f} MB/s")

    def complete(self, total: int | None) -> None:
        """Done: say how much came and the average speed."""
        elapsed = max(time.monotonic() - self._started, 1e-3)
        text = f"{self.what} complete: {format_size(total)}"
        if total and total >= 1_000_000:  # below a megabyte the speed says nothing useful
            text += f" at {total / elapsed / 1e6:.1f} MB/s"
        self.finish(text + ".")

    def finish(self, text: str) -> None:
        self.bar.setRange(0, 100)
        self.bar.setValue(100)
        self.label.setText(text)

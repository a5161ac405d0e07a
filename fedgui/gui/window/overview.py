"""The Overview tab: what a person understands in five seconds — the state in one sentence with
the next step, what this computer contributed, how the network's model does on their data (with
a small trend line), and the recent rounds as sentences."""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QFont, QPainter, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QFrame, QGridLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from fedgui.core.history.store import HistoryStore
from fedgui.core.session.states import SessionState
from fedgui.gui.threads import run_in_background
from fedgui.gui.window.overview_data import OverviewData, load_overview
from fedgui.gui.window.plain_words import next_step, plain_headline


class Sparkline(QWidget):
    """A small line of values, oldest left: the trend, not the numbers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: list[float] = []
        self.setMinimumSize(QSize(160, 40))
        self.setAccessibleName("Trend over rounds")

    def set_values(self, values: list[float]) -> None:
        self.values = [v for v in values if math.isfinite(v)]
        self.update()

    def paintEvent(self, _event) -> None:
        if len(self.values) < 2:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        low, high = min(self.values), max(self.values)
        span = (high - low) or 1.0
        width, height, pad = self.width(), self.height(), 4
        step = (width - 2 * pad) / (len(self.values) - 1)
        points = QPolygonF(
            [
                QPointF(pad + i * step, height - pad - (v - low) / span * (height - 2 * pad))
                for i, v in enumerate(self.values)
            ]
        )
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 2)
        painter.setPen(pen)
        painter.drawPolyline(points)
        painter.setBrush(pen.color())
        painter.drawEllipse(points.last(), 3, 3)
        painter.end()


def _bold(label: QLabel, scale: float = 1.0) -> QLabel:
    font = QFont(label.font())
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * scale)
    label.setFont(font)
    return label


class Overview(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history: HistoryStore | None = None
        self.profile_id: str | None = None
        self.data = OverviewData()
        self._request = 0

        self.state_label = _bold(QLabel(), 1.2)
        self.state_label.setWordWrap(True)
        self.state_label.setAccessibleName("What fedgui is doing")
        self.next_label = QLabel()
        self.next_label.setWordWrap(True)

        contribution = QGroupBox("What this computer contributed")
        grid = QGridLayout(contribution)
        self.rounds_label = _bold(QLabel("0"))
        self.last_label = _bold(QLabel("never"))
        self.examples_label = _bold(QLabel("—"))
        for column, (value, caption) in enumerate(
            (
                (self.rounds_label, "rounds trained"),
                (self.last_label, "last trained"),
                (self.examples_label, "of your examples used last time"),
            )
        ):
            grid.addWidget(value, 0, column)
            grid.addWidget(QLabel(caption), 1, column)
        self.privacy_label = QLabel("Your data never left this computer: only model updates were sent.")
        self.privacy_label.setWordWrap(True)
        grid.addWidget(self.privacy_label, 2, 0, 1, 3)

        model_box = QGroupBox("How the network's model does on your data")
        model_layout = QGridLayout(model_box)
        self.metric_label = _bold(QLabel("Not checked yet"), 1.1)
        self.metric_label.setAccessibleName("Latest result on your data")
        self.metric_note = QLabel(
            "fedgui checks the network's model on your data when the network asks, and before the "
            "first training."
        )
        self.metric_note.setWordWrap(True)
        self.sparkline = Sparkline()
        self.sparkline.setFixedWidth(220)
        model_layout.addWidget(self.metric_label, 0, 0)
        model_layout.addWidget(self.sparkline, 0, 1, 2, 1)
        model_layout.addWidget(self.metric_note, 1, 0)
        model_layout.setColumnStretch(2, 1)  # the trend line stays next to the number

        rounds_box = QGroupBox("Recent rounds")
        rounds_layout = QVBoxLayout(rounds_box)
        self.rounds_text = QLabel("Nothing yet: the first round appears here when it has finished.")
        self.rounds_text.setWordWrap(True)
        self.rounds_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rounds_text.setAccessibleName("Recent rounds")
        rounds_layout.addWidget(self.rounds_text)

        layout = QVBoxLayout(self)
        # The status panel above the tabs already says the state in big letters; here only the
        # next step (the label stays for screen readers and for the tray-only window).
        self.state_label.setVisible(False)
        layout.addWidget(self.state_label)
        layout.addWidget(self.next_label)
        self.next_line = QFrame()
        self.next_line.setFrameShape(QFrame.Shape.HLine)
        layout.addWidget(self.next_line)
        layout.addWidget(contribution)
        layout.addWidget(model_box)
        layout.addWidget(rounds_box)
        layout.addStretch(1)
        self.show_state(SessionState.IDLE)

    # --- state --------------------------------------------------------------------------------

    def show_state(self, state: SessionState, detail: str = "") -> None:
        self.state_label.setText(plain_headline(state, detail))
        step = next_step(state)
        self.next_label.setText(step)
        self.next_label.setVisible(bool(step))
        self.next_line.setVisible(bool(step))

    # --- history ------------------------------------------------------------------------------

    def set_source(self, history: HistoryStore | None, profile_id: str | None) -> None:
        self.history, self.profile_id = history, profile_id
        self.reload()

    def reload(self) -> None:
        if self.history is None or self.profile_id is None:
            self.show_data(OverviewData())
            return
        history, profile_id = self.history, self.profile_id
        self._request += 1
        request = self._request
        run_in_background(
            lambda: load_overview(history, profile_id),
            on_done=lambda data: self._loaded(request, data),
            on_error=lambda error: self.rounds_text.setText(f"The history could not be read: {error}"),
            owner=self,
        )

    def _loaded(self, request: int, data: OverviewData) -> None:
        if request == self._request:
            self.show_data(data)

    def show_data(self, data: OverviewData) -> None:
        self.data = data
        self.rounds_label.setText(f"{data.rounds_trained:,}")
        self.last_label.setText(_when(data.last_trained_at))
        self.examples_label.setText(f"{data.examples_last:,}" if data.examples_last is not None else "—")
        metric = data.key_metric
        if metric is None:
            self.metric_label.setText("Not checked yet")
            self.sparkline.set_values([])
            self.metric_note.setText(
                "fedgui checks the network's model on your data before the first training and "
                "whenever the network asks; the result appears here."
            )
        else:
            self.metric_label.setText(f"{metric.label}: {metric.latest:.3g}")
            self.metric_label.setToolTip(f"{metric.key} (as the package names it)")
            self.sparkline.set_values(metric.values)
            self.metric_note.setText(describe_trend(metric.trend(), metric.better))
        self.rounds_text.setText(
            "\n".join(data.recent) or "Nothing yet: the first round appears here when it has finished."
        )


def describe_trend(trend: str, better: str) -> str:
    """ "Getting better over the last rounds (higher is better)." from its two parts."""
    text = trend or ""
    if better:
        text = f"{text} ({better})" if text else better
    return (text[:1].upper() + text[1:] + ".") if text else ""


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "never"
    local = time.localtime(epoch)
    if time.strftime("%Y-%m-%d", local) == time.strftime("%Y-%m-%d"):
        return time.strftime("today %H:%M", local)
    return time.strftime("%d %b %H:%M", local)

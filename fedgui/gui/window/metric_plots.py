"""Metric plots: validation metrics and training metadata per round, and live values of the
running task. pyqtgraph (with numpy) is imported only when the plots are first built, so that
the main window appears quickly."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPalette
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fedgui.core.events import MetricReported
from fedgui.core.history.store import HistoryStore
from fedgui.gui.threads import run_in_background
from fedgui.gui.window.plot_data import PlotData, load_plot_data, plot_data_csv, round_positions

DEFAULT_TICKED = 3  # per group, so a first look is not a tangle of lines
LIVE_REDRAW_MS = 250  # live values can arrive many times a second; redraw at most 4×/s
GROUPS = (
    ("validation", "Validation results, per round"),
    ("training", "Training details, per round"),
    ("live", "Running task, live"),
)
#: Okabe–Ito colours: told apart by people with colour-vision deficiencies, and readable on
#: light and dark backgrounds (the plot background itself comes from the palette).
SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#999999")


class MetricPlots(QWidget):
    """Metric list with tick boxes on the left, three plots on the right."""

    exported = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history: HistoryStore | None = None
        self.profile_id: str | None = None
        self.data = PlotData()
        self.live: dict[str, list[tuple[float, float]]] = {}
        self._live_step = 0
        self._live_dirty = False
        self._ticked: dict[str, set[str]] = {group: set() for group, _ in GROUPS}
        self._user_ticked = False
        self.plots: dict[str, Any] = {}  # group -> pyqtgraph PlotWidget, once built
        self.curves: dict[tuple[str, str], Any] = {}

        self.metric_list = QTreeWidget()
        self.metric_list.setHeaderHidden(True)
        self.metric_list.setAccessibleName("Metrics to plot")
        self.metric_list.setMinimumWidth(250)
        self.metric_list.itemChanged.connect(self._item_ticked)
        self.group_items: dict[str, QTreeWidgetItem] = {}
        for group, title in GROUPS:
            item = QTreeWidgetItem([title])
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.metric_list.addTopLevelItem(item)
            self.group_items[group] = item

        self.hover_label = QLabel("Point at a line to see its values.")
        self.hover_label.setAccessibleName("Values under the mouse")
        self.empty_label = QLabel(
            "No results yet. After this computer has validated a model, "
            "its results appear here round by round."
        )
        self.empty_label.setWordWrap(True)
        self.export_png_button = QPushButton("Save as pictur&e…")
        self.export_png_button.clicked.connect(self.ask_export_png)
        self.export_csv_button = QPushButton("Save &data (CSV)…")
        self.export_csv_button.clicked.connect(self.ask_export_csv)

        self.plot_area = QWidget()
        self.plot_layout = QVBoxLayout(self.plot_area)
        self.plot_layout.setContentsMargins(0, 0, 0, 0)
        self.plot_layout.addWidget(self.empty_label)

        splitter = QSplitter()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("Show these metrics:"))
        left_layout.addWidget(self.metric_list, 1)
        left_layout.addWidget(self.export_png_button)
        left_layout.addWidget(self.export_csv_button)
        splitter.addWidget(left)
        splitter.addWidget(self.plot_area)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 800])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.hover_label, 1)
        layout.addLayout(bottom)

        self._live_timer = QTimer(self)
        self._live_timer.setInterval(LIVE_REDRAW_MS)
        self._live_timer.timeout.connect(self._redraw_live)
        self._live_timer.start()

    # --- data in ------------------------------------------------------------------------------

    def set_source(self, history: HistoryStore | None, profile_id: str | None) -> None:
        self.history = history
        self.profile_id = profile_id
        self.reload()

    def reload(self) -> None:
        if self.history is None or self.profile_id is None:
            self.set_data(PlotData())
            return
        history, profile_id = self.history, self.profile_id
        run_in_background(
            lambda: load_plot_data(history, profile_id),
            on_done=self.set_data,
            on_error=lambda error: self.hover_label.setText(f"The results could not be read: {error}"),
            owner=self,
        )

    def set_data(self, data: PlotData) -> None:
        self.data = data
        self._refresh_metric_list()
        self.redraw()

    def start_live(self, title: str) -> None:
        """A new task started: clear the live curves."""
        self.live.clear()
        self._live_step = 0
        self._live_dirty = True
        self.group_items["live"].setText(0, f"Live: {title}")
        self._refresh_metric_list()

    def add_live(self, event: MetricReported) -> None:
        self._live_step = event.step if event.step is not None else self._live_step + 1
        for key, value in event.values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if key not in self.live:
                    self.live[key] = []
                    self._live_dirty = True
                    self._refresh_metric_list()
                self.live[key].append((float(self._live_step), float(value)))
        self._live_dirty = True

    # --- metric list --------------------------------------------------------------------------

    def _series(self, group: str) -> dict[str, Any]:
        return {"validation": self.data.validation, "training": self.data.training, "live": self.live}[group]

    def _refresh_metric_list(self) -> None:
        self.metric_list.blockSignals(True)
        try:
            for group, _title in GROUPS:
                keys = list(self._series(group))
                if not self._user_ticked or group == "live":
                    known = self._ticked[group]
                    for key in keys[:DEFAULT_TICKED]:
                        known.add(key)
                parent = self.group_items[group]
                parent.takeChildren()
                for key in keys:
                    child = QTreeWidgetItem([key])
                    child.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                    ticked = key in self._ticked[group]
                    child.setCheckState(0, Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
                    child.setData(0, Qt.ItemDataRole.UserRole, (group, key))
                    parent.addChild(child)
                parent.setExpanded(True)
        finally:
            self.metric_list.blockSignals(False)

    def _item_ticked(self, item: QTreeWidgetItem, _column: int) -> None:
        tag = item.data(0, Qt.ItemDataRole.UserRole)
        if not tag:
            return
        group, key = tag
        self._user_ticked = True
        if item.checkState(0) == Qt.CheckState.Checked:
            self._ticked[group].add(key)
        else:
            self._ticked[group].discard(key)
        self.redraw()

    def set_metric_shown(self, group: str, key: str, shown: bool) -> None:
        parent = self.group_items[group]
        for i in range(parent.childCount()):
            child = parent.child(i)
            if child.text(0) == key:
                child.setCheckState(0, Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)

    def shown_keys(self, group: str) -> list[str]:
        return [k for k in self._series(group) if k in self._ticked[group]]

    # --- drawing ------------------------------------------------------------------------------

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.ensure_plots()

    def ensure_plots(self) -> None:
        """Build the pyqtgraph widgets (first time the tab is shown, or on demand)."""
        if self.plots:
            return
        import pyqtgraph as pg

        palette = self.palette()
        pg.setConfigOptions(
            antialias=True,
            background=palette.color(QPalette.ColorRole.Base),
            foreground=palette.color(QPalette.ColorRole.Text),
        )
        self.empty_label.hide()
        for group, title in GROUPS:
            axes = {} if group == "live" else {"bottom": whole_number_axis(pg)}
            plot = pg.PlotWidget(axisItems=axes)
            plot.setAccessibleName(title)
            plot.setTitle(title)
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setLabel("bottom", "step" if group == "live" else "round")
            background = palette.color(QPalette.ColorRole.Base)
            background.setAlpha(210)  # lines stay visible under the legend, its text readable
            plot.addLegend(offset=(8, 4), colCount=4, brush=background)
            plot.getPlotItem().getViewBox().setDefaultPadding(0.08)
            plot.setMouseEnabled(x=True, y=False)
            plot.scene().sigMouseMoved.connect(lambda pos, g=group: self._hover(g, pos))
            self.plots[group] = plot
            self.plot_layout.addWidget(plot, 1)
        self.redraw()

    def redraw(self) -> None:
        if not self.plots:
            return
        for group in ("validation", "training", "live"):
            self._draw_group(group)
        self.empty_label.setVisible(False)
        self._live_dirty = False

    def _redraw_live(self) -> None:
        if self._live_dirty and self.plots:
            self._draw_group("live")
            self._live_dirty = False

    def _draw_group(self, group: str) -> None:
        import pyqtgraph as pg

        plot = self.plots[group]
        plot.clear()
        legend = plot.plotItem.legend
        if legend is not None:
            legend.clear()
        keys = self.shown_keys(group)
        for number, key in enumerate(keys):
            xs, ys = self._xy(group, key)
            pen = pg.mkPen(SERIES_COLOURS[number % len(SERIES_COLOURS)], width=2)
            curve = plot.plot(
                xs,
                ys,
                pen=pen,
                name=key,
                symbol="o" if group != "live" else None,
                symbolSize=6,
                symbolBrush=pen.color(),
                connect="finite",  # nan/inf from the history become gaps
            )
            self.curves[(group, key)] = curve
        plot.setVisible(group != "live" or bool(self.live))

    def _xy(self, group: str, key: str) -> tuple[list[float], list[float]]:
        if group == "live":
            values = self.live.get(key, [])
            return [x for x, _ in values], [_finite(y) for _, y in values]
        points = self._series(group).get(key, [])
        return round_positions(points), [_finite(p.value) for p in points]

    def _hover(self, group: str, scene_pos) -> None:
        plot = self.plots[group]
        view = plot.plotItem.vb
        if not plot.plotItem.sceneBoundingRect().contains(scene_pos):
            return
        x = view.mapSceneToView(scene_pos).x()
        self.hover_label.setText(self.describe_at(group, x))

    def describe_at(self, group: str, x: float) -> str:
        """Values of the shown metrics nearest to ``x`` (a round or a step), as a sentence."""
        parts = []
        nearest_x = None
        for key in self.shown_keys(group):
            xs, ys = self._xy(group, key)
            if not xs:
                continue
            i = min(range(len(xs)), key=lambda j: abs(xs[j] - x))
            nearest_x = xs[i]
            parts.append(f"{key} {ys[i]:.4g}")
        if nearest_x is None:
            return ""
        where = f"step {nearest_x:.0f}" if group == "live" else f"round {nearest_x:.0f}"
        return f"{where}: " + ", ".join(parts)

    # --- export -------------------------------------------------------------------------------

    def ask_export_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the plots as a picture", "fedgui-metrics.png", "PNG (*.png)"
        )
        if path:
            self.export_png(Path(path))

    def ask_export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the plotted values", "fedgui-metrics.csv", "CSV (*.csv)"
        )
        if path:
            self.export_csv(Path(path))

    def export_png(self, path: Path) -> None:
        self.ensure_plots()
        image: QImage = self.plot_area.grab().toImage()  # rendering must happen on the UI thread

        def save() -> str:
            if not image.save(str(path), "PNG"):
                raise OSError(f"could not write {path}")
            return str(path)

        run_in_background(save, on_done=self.exported.emit, on_error=self._export_failed, owner=self)

    def export_csv(self, path: Path) -> None:
        text = plot_data_csv(self.data, {k: list(v) for k, v in self.live.items()})
        run_in_background(
            lambda: (Path(path).write_text(text, encoding="utf-8"), str(path))[1],
            on_done=self.exported.emit,
            on_error=self._export_failed,
            owner=self,
        )

    def _export_failed(self, error: BaseException) -> None:
        self.hover_label.setText(f"Could not save: {error}. Try another folder.")


def _finite(value: float) -> float:
    return value if isinstance(value, (int, float)) and math.isfinite(value) else math.nan


def whole_number_axis(pg):
    """An x axis for rounds: ticks only at whole numbers (there is no round 2.5)."""

    class WholeNumberAxis(pg.AxisItem):
        def tickValues(self, minVal, maxVal, size):
            levels = [
                (spacing, [v for v in values if float(v).is_integer()])
                for spacing, values in super().tickValues(minVal, maxVal, size)
                if spacing >= 1
            ]
            if not any(values for _, values in levels):
                first, last = math.ceil(minVal), math.floor(maxVal)
                levels = [(1.0, [float(v) for v in range(first, last + 1)])]
            return levels

    return WholeNumberAxis(orientation="bottom")

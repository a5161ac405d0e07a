"""Metric plots, one small plot per metric (each with its own axis): validation metrics and
training values per round, and the training curve of the running (or last, or a past) training.
Counts and series that never change are hidden at first. pyqtgraph (with numpy) is imported only
when the plots are first built, so that the main window appears quickly."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fedgui.core.events import MetricReported
from fedgui.core.history.store import HistoryStore
from fedgui.gui.common.metric_names import metric_label
from fedgui.gui.threads import run_in_background
from fedgui.gui.window.plot_data import (
    LAST_PREFIX,
    PlotData,
    load_plot_data,
    plot_data_csv,
    round_positions,
    shown_by_default,
)

LIVE_REDRAW_MS = 250  # live values can arrive many times a second; redraw at most 4×/s
PLOT_COLUMNS = 4  # small multiples: one small plot per metric, this many side by side
PLOT_ROW_HEIGHT = 150
GROUPS = (
    ("validation", "How the network's model does on your data, per round"),
    ("training", "Your training, per round"),
    ("live", "Training curve"),
)
LATEST = "Latest training"
#: Okabe–Ito colours: told apart by people with colour-vision deficiencies, and readable on
#: light and dark backgrounds (the plot background itself comes from the palette).
SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#999999")
NON_TRAINING_SOURCES = frozenset({"validate", "predict", "startup"})


def series_label(key: str) -> str:
    if key.startswith(LAST_PREFIX):
        return f"{metric_label(key.removeprefix(LAST_PREFIX))}, last reported in training"
    return metric_label(key)


class MetricPlots(QWidget):
    """Metric list with tick boxes on the left; one small plot per ticked metric on the right."""

    exported = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history: HistoryStore | None = None
        self.profile_id: str | None = None
        self.data = PlotData()
        self.live: dict[str, list[tuple[float, float]]] = {}
        self.live_title = ""
        self._live_step = 0
        self._live_dirty = False
        self._ticked: dict[str, set[str]] = {group: set() for group, _ in GROUPS}
        self._offered: dict[str, set[str]] = {group: set() for group, _ in GROUPS}
        self._chosen: set[tuple[str, str]] = set()  # (group, key) the person ticked or unticked
        self.plots: dict[str, Any] = {}  # group -> pyqtgraph GraphicsLayoutWidget, once built
        self.plot_items: dict[tuple[str, str], Any] = {}
        self.curves: dict[tuple[str, str], Any] = {}

        self.metric_list = QTreeWidget()
        self.metric_list.setHeaderHidden(True)
        self.metric_list.setAccessibleName("Metrics to plot")
        self.metric_list.setMinimumWidth(220)
        self.metric_list.itemChanged.connect(self._item_ticked)
        self.group_items: dict[str, QTreeWidgetItem] = {}
        for group, title in GROUPS:
            item = QTreeWidgetItem([title])
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.metric_list.addTopLevelItem(item)
            self.group_items[group] = item

        self.curve_choice = QComboBox()
        self.curve_choice.setAccessibleName("Which training curve")
        self.curve_choice.currentIndexChanged.connect(lambda _i: self._draw_group_if_built("live"))
        self.hover_label = QLabel("Point at a line to see its values.")
        self.hover_label.setAccessibleName("Values under the mouse")
        self.empty_label = QLabel(
            "No results yet. After this computer has checked a model on your data, "
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
        self.group_titles: dict[str, QLabel] = {}
        self._hover_connected: set[str] = set()  # groups whose plot area reports the mouse
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.plot_area)
        self.scroll_area = scroll  # not `scroll`: that name is QWidget.scroll()

        splitter = QSplitter()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("Show these metrics:"))
        left_layout.addWidget(self.metric_list, 1)
        left_layout.addWidget(QLabel("Training curve of:"))
        left_layout.addWidget(self.curve_choice)
        left_layout.addWidget(self.export_png_button)
        left_layout.addWidget(self.export_csv_button)
        splitter.addWidget(left)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 800])
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
        self.live.clear()
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
        self._refresh_curve_choice()
        self._refresh_metric_list(recompute_defaults=True)
        self.redraw()

    def start_live(self, title: str, kind: str = "train") -> None:
        """A task started. Only a new training replaces the training curve: the last one stays
        visible while the round's validation runs, and after."""
        if kind != "train":
            return
        self.live.clear()
        self.live_title = title
        self._live_step = 0
        self._live_dirty = True
        self.curve_choice.setCurrentIndex(0)
        self._refresh_metric_list()

    def add_live(self, event: MetricReported) -> None:
        if event.source in NON_TRAINING_SOURCES:
            return  # a validation's own metric lines must not overwrite the training curve
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
        if group == "live":
            return self.shown_curve()
        return {"validation": self.data.validation, "training": self.data.training}[group]

    def shown_curve(self) -> dict[str, list[tuple[float, float]]]:
        """The training curve chosen below the list: the live / last one, or a past round's."""
        index = self.curve_choice.currentIndex()
        if index <= 0:
            if self.live:
                return self.live
            return self.data.curves[0][1] if self.data.curves else {}
        past = index - 1 if self.live else index
        return self.data.curves[past][1] if past < len(self.data.curves) else {}

    def _refresh_curve_choice(self) -> None:
        current = self.curve_choice.currentText()
        self.curve_choice.blockSignals(True)
        self.curve_choice.clear()
        self.curve_choice.addItem(LATEST)
        labels = [label for label, _curve in self.data.curves]
        if self.live:
            self.curve_choice.addItems(labels)
        else:
            self.curve_choice.addItems(labels[1:])  # the latest stored curve is "Latest training"
        index = self.curve_choice.findText(current)
        self.curve_choice.setCurrentIndex(max(0, index))
        self.curve_choice.blockSignals(False)

    def _default_shown(self, group: str, key: str) -> bool:
        series = self._series(group).get(key, [])
        values = [y for _x, y in series] if group == "live" else [p.value for p in series]
        return shown_by_default(key, values)

    def _refresh_metric_list(self, recompute_defaults: bool = False) -> None:
        """``recompute_defaults``: with whole series (from the history), hide again what turned
        out constant, unless the person chose for that metric; while a curve streams in, only
        newly seen metrics get their default (a line must not vanish mid-training)."""
        self.metric_list.blockSignals(True)
        try:
            for group, _title in GROUPS:
                keys = list(self._series(group))
                for key in keys:
                    first_seen = key not in self._offered[group]
                    self._offered[group].add(key)
                    if (group, key) in self._chosen or not (first_seen or recompute_defaults):
                        continue
                    if self._default_shown(group, key):
                        self._ticked[group].add(key)
                    else:
                        self._ticked[group].discard(key)
                parent = self.group_items[group]
                parent.takeChildren()
                for key in keys:
                    child = QTreeWidgetItem([series_label(key)])
                    child.setToolTip(0, f"{key} (as the package names it)")
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
        self._chosen.add((group, key))
        if item.checkState(0) == Qt.CheckState.Checked:
            self._ticked[group].add(key)
        else:
            self._ticked[group].discard(key)
        self.redraw()

    def set_metric_shown(self, group: str, key: str, shown: bool) -> None:
        parent = self.group_items[group]
        for i in range(parent.childCount()):
            child = parent.child(i)
            if child is not None and child.data(0, Qt.ItemDataRole.UserRole) == (group, key):
                child.setCheckState(0, Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)

    def shown_keys(self, group: str) -> list[str]:
        return [k for k in self._series(group) if k in self._ticked[group]]

    def offered_keys(self, group: str) -> list[str]:
        return list(self._series(group))

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
            heading = QLabel(f"<b>{title}</b>")
            self.group_titles[group] = heading
            self.plot_layout.addWidget(heading)
            area = pg.GraphicsLayoutWidget()
            area.setAccessibleName(title)
            area.ci.setSpacing(6)
            self.plots[group] = area
            self.plot_layout.addWidget(area)
        self.plot_layout.addStretch(1)
        self.redraw()

    def redraw(self) -> None:
        if not self.plots:
            return
        for group, _title in GROUPS:
            self._draw_group(group)
        self.empty_label.setVisible(False)
        self._live_dirty = False

    def _draw_group_if_built(self, group: str) -> None:
        if self.plots:
            self._draw_group(group)

    def _redraw_live(self) -> None:
        if self._live_dirty and self.plots:
            self._refresh_curve_choice()
            self._draw_group("live")
            self._live_dirty = False

    def _draw_group(self, group: str) -> None:
        import pyqtgraph as pg

        area = self.plots[group]
        area.clear()
        for stale in [k for k in self.plot_items if k[0] == group]:
            self.plot_items.pop(stale, None)
            self.curves.pop(stale, None)
        keys = self.shown_keys(group)
        for number, key in enumerate(keys):
            row, column = divmod(number, PLOT_COLUMNS)
            axes = {} if group == "live" else {"bottom": whole_number_axis()}
            plot = area.addPlot(row=row, col=column, axisItems=axes)
            plot.setTitle(series_label(key), size="9pt")
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setLabel("bottom", "step" if group == "live" else "round")
            plot.getViewBox().setDefaultPadding(0.08)
            plot.setMouseEnabled(x=True, y=False)
            xs, ys = self._xy(group, key)
            pen = pg.mkPen(SERIES_COLOURS[number % len(SERIES_COLOURS)], width=2)
            curve = plot.plot(
                xs,
                ys,
                pen=pen,
                symbol="o" if group != "live" else None,
                symbolSize=6,
                symbolBrush=pen.color(),
                connect="finite",  # nan/inf from the history become gaps
            )
            self.plot_items[(group, key)] = plot
            self.curves[(group, key)] = curve
        rows = math.ceil(len(keys) / PLOT_COLUMNS)
        area.setFixedHeight(max(rows, 0) * PLOT_ROW_HEIGHT)
        visible = bool(keys)
        area.setVisible(visible)
        title = dict(GROUPS)[group]
        if group == "live":
            chosen = self.curve_choice.currentText()
            which = self.live_title if (self.live and self.curve_choice.currentIndex() == 0) else chosen
            title = f"{title}: {which}" if which and which != LATEST else title
            if not self._series(group):
                title += " (the package reports none yet)"
        self.group_titles[group].setText(f"<b>{title}</b>")
        self.group_titles[group].setVisible(visible or group == "live")
        if group not in self._hover_connected:
            area.scene().sigMouseMoved.connect(lambda pos, g=group: self._hover(g, pos))
            self._hover_connected.add(group)

    def _xy(self, group: str, key: str) -> tuple[list[float], list[float]]:
        if group == "live":
            values = self.shown_curve().get(key, [])
            return [x for x, _ in values], [_finite(y) for _, y in values]
        points = self._series(group).get(key, [])
        return round_positions(points), [_finite(p.value) for p in points]

    def _hover(self, group: str, scene_pos) -> None:
        for (item_group, _key), plot in self.plot_items.items():
            if item_group == group and plot.sceneBoundingRect().contains(scene_pos):
                x = plot.getViewBox().mapSceneToView(scene_pos).x()
                self.hover_label.setText(self.describe_at(group, x))
                return

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
            parts.append(f"{series_label(key)} {ys[i]:.4g}")
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
            # PySide6's stub types the format as bytes, but at run time it takes only a str.
            if not image.save(str(path), "PNG"):  # type: ignore[call-overload]
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


def whole_number_axis() -> Any:
    """An x axis for rounds: ticks only at whole numbers (there is no round 2.5)."""
    import pyqtgraph as pg  # pyqtgraph has no type information: its classes are Any

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

"""Metric plots: series from the history, live values, hover text, export."""

from __future__ import annotations

import math

import pytest

from fedgui.core.events import MetricReported
from fedgui.gui.window.metric_plots import MetricPlots
from fedgui.gui.window.plot_data import load_plot_data, round_positions


@pytest.fixture
def plots(qtbot, history, profiles):
    widget = MetricPlots()
    widget.resize(1000, 700)
    qtbot.addWidget(widget)
    widget.show()
    widget.set_source(history, profiles[0].id)
    qtbot.waitUntil(lambda: bool(widget.data.validation))
    return widget


def test_history_series_per_round(history, profiles):
    data = load_plot_data(history, profiles[0].id)
    assert list(data.validation) == ["accuracy", "loss", "f1"]  # preferred first; text left out
    accuracy = data.validation["accuracy"]
    assert round_positions(accuracy) == [1.0, 2.0, 4.0, 5.0]  # round 3 failed
    assert [round(p.value, 2) for p in accuracy] == [0.55, 0.6, 0.7, 0.75]
    assert math.isnan(data.validation["f1"][1].value)
    assert set(data.training) == {"num_examples", "epochs", "lr"}


def test_curves_drawn_for_ticked_metrics(plots):
    assert plots.shown_keys("validation") == ["accuracy", "loss", "f1"]
    xs, _ = plots.curves[("validation", "accuracy")].getData()
    assert list(xs) == [1.0, 2.0, 4.0, 5.0]
    _, f1 = plots.curves[("validation", "f1")].getData()
    assert math.isnan(f1[1])  # a gap, not a crash
    plots.set_metric_shown("validation", "loss", False)
    assert plots.shown_keys("validation") == ["accuracy", "f1"]
    plot_items = plots.plots["validation"].plotItem.listDataItems()
    assert len(plot_items) == 2


def test_live_metrics(qtbot, plots):
    plots.start_live("training, round 6")
    for step in range(4):
        plots.add_live(
            MetricReported(values={"loss": 1 / (step + 1), "label": "x"}, step=step, source="train")
        )
    plots.add_live(MetricReported(values={"loss": 0.1}, step=None, source="train"))
    assert plots.live["loss"][-1] == (4.0, 0.1)
    assert "label" not in plots.live
    qtbot.waitUntil(
        lambda: ("live", "loss") in plots.curves and len(plots.curves[("live", "loss")].getData()[0]) == 5
    )
    assert plots.plots["live"].isVisible()


def test_hover_text(plots):
    text = plots.describe_at("validation", 4.2)
    assert text.startswith("round 4: accuracy 0.7")


def test_export_png_and_csv(qtbot, plots, tmp_path):
    png, csv = tmp_path / "m.png", tmp_path / "m.csv"
    with qtbot.waitSignal(plots.exported, timeout=5000):
        plots.export_png(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with qtbot.waitSignal(plots.exported, timeout=5000):
        plots.export_csv(csv)
    rows = csv.read_text().splitlines()
    assert rows[0] == "series,metric,round_or_step,value"
    assert "validation,accuracy,5,0.75" in rows


def test_empty_history(qtbot, tmp_path):
    from fedgui.core.history.store import HistoryStore

    with HistoryStore(tmp_path / "empty.sqlite3") as empty:
        widget = MetricPlots()
        qtbot.addWidget(widget)
        widget.set_source(empty, "00000000-0000-0000-0000-000000000000")
        widget.show()
        qtbot.wait(50)
        assert widget.shown_keys("validation") == []

"""Metric plots: series from the history, live values, hover text, export."""

from __future__ import annotations

import math

import pytest

from fedgui.core.events import MetricReported
from fedgui.gui.window.metric_plots import MetricPlots
from fedgui.gui.window.plot_data import load_plot_data, round_positions


def shown_plots(qtbot, store, profile_id: str) -> MetricPlots:
    """The plots of ``profile_id``'s history, in a window of a usual size."""
    widget = MetricPlots()
    widget.resize(1000, 700)
    qtbot.addWidget(widget)
    widget.show()
    widget.set_source(store, profile_id)
    return widget


@pytest.fixture
def plots(qtbot, history, profiles):
    widget = shown_plots(qtbot, history, profiles[0].id)
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
    assert {k for k in plots.plot_items if k[0] == "validation"} == {
        ("validation", "accuracy"),
        ("validation", "f1"),
    }


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
    assert text.startswith("round 4: Accuracy 0.7")


def test_export_png_and_csv(qtbot, plots, tmp_path):
    png, csv = tmp_path / "m.png", tmp_path / "m.csv"
    with qtbot.waitSignal(plots.exported, timeout=5000):
        plots.export_png(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with qtbot.waitSignal(plots.exported, timeout=5000):
        plots.export_csv(csv)
    rows = csv.read_text().splitlines()
    assert rows[0] == "series,metric,round_or_step,value"
    assert "validation,accuracy,5,0.75" in rows  # raw keys in the CSV


def test_empty_history(qtbot, tmp_path):
    from fedgui.core.history.store import HistoryStore

    with HistoryStore(tmp_path / "empty.sqlite3") as empty:
        widget = MetricPlots()
        qtbot.addWidget(widget)
        widget.set_source(empty, "00000000-0000-0000-0000-000000000000")
        widget.show()
        qtbot.wait(50)
        assert widget.shown_keys("validation") == []


def test_each_metric_has_its_own_axis_and_counts_are_one_click_away(qtbot, tmp_path):
    """A test loss falling from 0.42 to 0.012 next to num_examples_test = 90: its own plot, its
    own axis; the count and a constant series start hidden but are listed, tickable."""
    from fedgui.core.history.store import HistoryStore

    with HistoryStore(tmp_path / "h.sqlite3") as store:
        for number, loss in enumerate((0.42, 0.1, 0.012), start=1):
            task = store.start_task("p", "validate", round_id=str(number), model_id=f"g{number}")
            values = {"test_loss": loss, "num_examples_test": 90, "test_accuracy": 0.5 + number / 10}
            store.add_metrics(task, "validation", {**values, "fold": 3})
            store.finish_task(task, "ok")
        widget = shown_plots(qtbot, store, "p")
        qtbot.waitUntil(lambda: bool(widget.data.validation))
        assert set(widget.offered_keys("validation")) == {
            "test_loss",
            "num_examples_test",
            "test_accuracy",
            "fold",
        }
        assert widget.shown_keys("validation") == ["test_accuracy", "test_loss"]
        loss_plot = widget.plot_items[("validation", "test_loss")]

        def loss_fills_its_own_axis() -> bool:  # not one shared with 90
            low, high = loss_plot.getViewBox().viewRange()[1]
            return low < 0.05 and high < 0.5

        # pyqtgraph applies auto-range on its next update, which a loaded machine may not have reached yet.
        qtbot.waitUntil(loss_fills_its_own_axis, timeout=5000)
        labels = {
            widget.group_items["validation"].child(i).text(0): widget.group_items["validation"]
            .child(i)
            .toolTip(0)
            for i in range(widget.group_items["validation"].childCount())
        }
        assert "Test loss" in labels and labels["Test loss"].startswith("test_loss")
        assert "Number of examples test" in labels
        widget.set_metric_shown("validation", "num_examples_test", True)  # one click away
        assert ("validation", "num_examples_test") in widget.plot_items


def test_the_training_curve_stays_until_the_next_training_and_past_ones_are_kept(qtbot, tmp_path):
    from fedgui.core.history.store import HistoryStore

    with HistoryStore(tmp_path / "h.sqlite3") as store:
        for number in (1, 2):
            task = store.start_task("p", "train", round_id=str(number), model_id=f"m{number}")
            for step in range(3):
                store.add_metrics(task, "live", {"loss": 1.0 / (number * 10 + step + 1)}, step=step)
            store.add_metrics(task, "training_metadata", {"num_examples": 210})
            store.finish_task(task, "ok")
        widget = shown_plots(qtbot, store, "p")
        qtbot.waitUntil(lambda: bool(widget.data.curves))
        # The last training's curve is shown at once, past rounds are one choice away.
        assert widget.shown_keys("live") == ["loss"]
        assert widget.curve_choice.itemText(1) == "Round 1"
        # Per-round: the last reported training loss.
        last = widget.data.training["last reported:loss"]
        assert [round(p.value, 4) for p in last] == [round(1 / 13, 4), round(1 / 23, 4)]
        assert "last reported:loss" in widget.shown_keys("training")

        widget.start_live("training, round 3", "train")
        for step in range(4):
            widget.add_live(MetricReported(values={"loss": 0.5 - step / 10}, step=step, source="train"))
        # Validation starts a second later: the training curve stays.
        widget.start_live("validating, round 3", "validate")
        widget.add_live(MetricReported(values={"loss": 9.0}, step=0, source="validate"))
        assert [y for _x, y in widget.live["loss"]] == [0.5, 0.4, 0.3, 0.2]
        qtbot.waitUntil(lambda: len(widget.curves[("live", "loss")].getData()[0]) == 4)
        widget.curve_choice.setCurrentIndex(widget.curve_choice.findText("Round 1"))
        _xs, ys = widget.curves[("live", "loss")].getData()
        assert round(float(ys[-1]), 4) == round(1 / 13, 4)
        # The next training replaces it.
        widget.start_live("training, round 4", "train")
        assert widget.live == {}


def test_the_first_look_is_drawn_before_its_round(tmp_path):
    """The check before the first training validates the model round 1 starts from: drawn at
    round 0, so round 1 has one point (no vertical jump)."""
    from fedgui.core.history.store import HistoryStore

    with HistoryStore(tmp_path / "h.sqlite3") as store:
        first_look = store.start_task("p", "preview", round_id="1", model_id="seed")
        store.add_metrics(first_look, "validation", {"test_accuracy": 0.5})
        store.finish_task(first_look, "ok")
        validate = store.start_task("p", "validate", round_id="1", model_id="g1")
        store.add_metrics(validate, "validation", {"test_accuracy": 0.8})
        store.finish_task(validate, "ok")
        data = load_plot_data(store, "p")
    points = data.validation["test_accuracy"]
    assert round_positions(points) == [0.0, 1.0]
    assert [p.value for p in points] == [0.5, 0.8]


def test_a_training_value_that_never_changed_is_hidden_once_the_training_is_over(qtbot, tmp_path):
    from fedgui.core.history.store import HistoryStore

    with HistoryStore(tmp_path / "h.sqlite3") as store:
        widget = MetricPlots()
        qtbot.addWidget(widget)
        widget.show()
        widget.set_source(store, "p")
        widget.start_live("training, round 1", "train")
        widget.add_live(MetricReported(values={"loss": 0.5, "accuracy": 0.8}, step=1, source="train"))
        assert widget.shown_keys("live") == ["loss", "accuracy"]  # nothing vanishes mid-training
        task = store.start_task("p", "train", round_id="1", model_id="m")
        for step, loss in enumerate((0.5, 0.4, 0.3), start=1):
            store.add_metrics(task, "live", {"loss": loss, "accuracy": 0.8}, step=step)
        store.finish_task(task, "ok")
        widget.live.clear()
        widget.reload()
        qtbot.waitUntil(lambda: bool(widget.data.curves))
        assert widget.shown_keys("live") == ["loss"]  # accuracy stayed 0.8: one click away
        assert "accuracy" in widget.offered_keys("live")

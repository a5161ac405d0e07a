"""What the metric plots show, read from the history (Qt-free, runs on a worker thread).

- ``validation``: each numeric validation metric per round (how the network's model does here);
- ``training``: each numeric training-metadata value per round, plus the last value the package
  reported during training (``FEDGUI_METRIC`` lines) as ``LAST_PREFIX + key``;
- ``curves``: the training curves (``FEDGUI_METRIC`` lines) of recent training tasks, per round.
"""

from __future__ import annotations

import csv
import io
import math
import time
from dataclasses import dataclass, field

from fedgui.core.history.records import MetricPoint
from fedgui.core.history.store import HistoryStore
from fedgui.gui.common.metric_names import is_count

#: Shown first when present.
PREFERRED_KEYS = ("accuracy", "test_accuracy", "val_accuracy", "loss", "test_loss", "val_loss", "f1", "auc")
TRAIN_TASKS_SCANNED = 20  # recent train tasks whose metadata keys and curves are offered
#: Training series made from the last value of a live metric in each training task.
LAST_PREFIX = "last reported:"

Curve = dict[str, list[tuple[float, float]]]  # metric key -> (step, value)


@dataclass
class PlotData:
    validation: dict[str, list[MetricPoint]] = field(default_factory=dict)
    training: dict[str, list[MetricPoint]] = field(default_factory=dict)
    #: Training curves of recent training tasks, newest first: (label, curve).
    curves: list[tuple[str, Curve]] = field(default_factory=list)


def ordered_keys(keys: set[str]) -> list[str]:
    preferred = [k for k in PREFERRED_KEYS if k in keys]
    return preferred + sorted(keys - set(preferred))


def shown_by_default(key: str, values: list[float]) -> bool:
    """Counts, settings and series that never change are hidden at first (one click away)."""
    raw = key.removeprefix(LAST_PREFIX)
    finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    constant = len(finite) > 1 and max(finite) == min(finite)
    return not is_count(raw) and not constant


def load_plot_data(history: HistoryStore, profile_id: str) -> PlotData:
    """Every numeric validation metric and training value per round, and recent training curves."""
    validation_keys: set[str] = set()
    for summary in history.round_summary(profile_id):
        validation_keys.update(k for k, v in summary.validation.items() if _is_number(v))
    for task in history.tasks(profile_id, kind="preview", limit=20):
        validation_keys.update(m.key for m in history.metrics_for(task.id, "validation") if m.is_number)
    training_keys: set[str] = set()
    train_tasks = history.tasks(profile_id, kind="train", limit=TRAIN_TASKS_SCANNED)
    for task in train_tasks:
        training_keys.update(m.key for m in history.metrics_for(task.id, "training_metadata") if m.is_number)
    data = PlotData()
    # The first look validates the model a round starts from: it is drawn one round earlier
    # (round 0 = the starting model), so each round has one point and no vertical jumps.
    before = {
        (t.round_id, t.finished_at): _previous_round(t.round_id)
        for t in history.tasks(profile_id, kind="preview", limit=20)
    }
    for key in ordered_keys(validation_keys):
        data.validation[key] = [
            point._replace(round_id=before.get((point.round_id, point.finished_at), point.round_id))
            for point in history.metric_series(profile_id, key, "validation")
        ]
    for key in ordered_keys(training_keys):
        data.training[key] = history.metric_series(profile_id, key, "training_metadata")
    last_reported: dict[str, list[MetricPoint]] = {}
    for task in reversed(train_tasks):  # oldest first, like the other series
        curve: Curve = {}
        for metric in history.metrics_for(task.id, "live"):
            if metric.is_number:
                points = curve.setdefault(metric.key, [])
                step = float(metric.step) if metric.step is not None else float(len(points))
                points.append((step, float(metric.value)))
        if not curve:
            continue
        label = (
            f"Round {task.round_id}"
            if task.round_id
            else time.strftime("%H:%M", time.localtime(task.started_at))
        )
        data.curves.insert(0, (label, curve))
        if task.status == "ok":
            for key, points in curve.items():
                last_reported.setdefault(key, []).append(
                    MetricPoint(task.round_id, points[-1][1], task.finished_at)
                )
    for key in ordered_keys(set(last_reported)):
        data.training[LAST_PREFIX + key] = last_reported[key]
    return data


def _previous_round(round_id: str | None) -> str | None:
    try:
        return str(int(str(round_id)) - 1)
    except (TypeError, ValueError):
        return round_id


def round_positions(points: list[MetricPoint]) -> list[float]:
    """x of each point: the round number when round ids are numbers, else 1, 2, 3…"""
    try:
        return [float(int(str(p.round_id))) for p in points]
    except (TypeError, ValueError):
        return [float(i + 1) for i in range(len(points))]


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def plot_data_csv(data: PlotData, live: dict[str, list[tuple[float, float]]]) -> str:
    """All series as long-format CSV with the raw metric keys: series, metric, round (or step), value."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["series", "metric", "round_or_step", "value"])
    for series, table in (("validation", data.validation), ("training", data.training)):
        for key, points in table.items():
            name, metric = (
                ("training_last_reported", key.removeprefix(LAST_PREFIX))
                if key.startswith(LAST_PREFIX)
                else (series, key)
            )
            for x, point in zip(round_positions(points), points, strict=True):
                label = point.round_id if point.round_id is not None else int(x)
                writer.writerow([name, metric, label, _csv_value(point.value)])
    for key, values in live.items():
        for x, y in values:
            writer.writerow(["live", key, int(x), _csv_value(y)])
    return out.getvalue()


def _csv_value(value: float) -> str:
    return repr(value) if isinstance(value, float) and math.isfinite(value) else str(value)

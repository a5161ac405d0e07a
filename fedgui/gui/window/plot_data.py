"""What the metric plots show, read from the history (Qt-free, runs on a worker thread)."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field

from fedgui.core.history.records import MetricPoint
from fedgui.core.history.store import HistoryStore

#: Shown first (and ticked by default) when present.
PREFERRED_KEYS = ("accuracy", "test_accuracy", "val_accuracy", "loss", "test_loss", "val_loss", "f1", "auc")
TRAIN_TASKS_SCANNED = 20  # recent train tasks whose metadata keys are offered


@dataclass
class PlotData:
    validation: dict[str, list[MetricPoint]] = field(default_factory=dict)
    training: dict[str, list[MetricPoint]] = field(default_factory=dict)


def ordered_keys(keys: set[str]) -> list[str]:
    preferred = [k for k in PREFERRED_KEYS if k in keys]
    return preferred + sorted(keys - set(preferred))


def load_plot_data(history: HistoryStore, profile_id: str) -> PlotData:
    """Every numeric validation metric and training-metadata value per round."""
    validation_keys: set[str] = set()
    for summary in history.round_summary(profile_id):
        validation_keys.update(k for k, v in summary.validation.items() if _is_number(v))
    for task in history.tasks(profile_id, kind="preview", limit=20):
        validation_keys.update(m.key for m in history.metrics_for(task.id, "validation") if m.is_number)
    training_keys: set[str] = set()
    for task in history.tasks(profile_id, kind="train", limit=TRAIN_TASKS_SCANNED):
        training_keys.update(m.key for m in history.metrics_for(task.id, "training_metadata") if m.is_number)
    data = PlotData()
    for key in ordered_keys(validation_keys):
        data.validation[key] = history.metric_series(profile_id, key, "validation")
    for key in ordered_keys(training_keys):
        data.training[key] = history.metric_series(profile_id, key, "training_metadata")
    return data


def round_positions(points: list[MetricPoint]) -> list[float]:
    """x of each point: the round number when round ids are numbers, else 1, 2, 3…"""
    try:
        return [float(int(str(p.round_id))) for p in points]
    except (TypeError, ValueError):
        return [float(i + 1) for i in range(len(points))]


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def plot_data_csv(data: PlotData, live: dict[str, list[tuple[float, float]]]) -> str:
    """All series as long-format CSV: kind, key, round (or step), value."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["series", "metric", "round_or_step", "value"])
    for series, table in (("validation", data.validation), ("training", data.training)):
        for key, points in table.items():
            for x, point in zip(round_positions(points), points, strict=True):
                label = point.round_id if point.round_id is not None else int(x)
                writer.writerow([series, key, label, _csv_value(point.value)])
    for key, values in live.items():
        for x, y in values:
            writer.writerow(["live", key, int(x), _csv_value(y)])
    return out.getvalue()


def _csv_value(value: float) -> str:
    return repr(value) if isinstance(value, float) and math.isfinite(value) else str(value)

"""What the Overview tab says, read from the history (Qt-free, runs on a worker thread):
what this computer contributed, how the network's model does on this person's data, and the
recent rounds as plain sentences."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from fedgui.core.history.records import TaskRecord
from fedgui.core.history.store import HistoryStore
from fedgui.gui.common.metric_names import is_count, lower_is_better, metric_label, what_better_means

#: The key metric on the person's data, first found wins: accuracies read more easily than losses.
KEY_METRICS = (
    "accuracy",
    "test_accuracy",
    "val_accuracy",
    "validation_accuracy",
    "auc",
    "f1",
    "loss",
    "test_loss",
    "val_loss",
)
RECENT_ROUNDS = 5
TASKS_READ = 400


@dataclass
class KeyMetric:
    key: str
    values: list[float]  # oldest first, one per validation (preview first look included)

    @property
    def label(self) -> str:
        return metric_label(self.key)

    @property
    def latest(self) -> float:
        return self.values[-1]

    @property
    def better(self) -> str:
        return what_better_means(self.key)

    def trend(self) -> str:
        """ "getting better", "getting worse" or "about the same", over the last few values."""
        finite = [v for v in self.values if math.isfinite(v)]
        if len(finite) < 2 or lower_is_better(self.key) is None:
            return ""
        first, last = finite[max(0, len(finite) - 5)], finite[-1]
        if abs(last - first) <= 1e-9 + 0.01 * abs(first):
            return "about the same over the last rounds"
        improved = (last < first) == bool(lower_is_better(self.key))
        return "getting better over the last rounds" if improved else "getting worse over the last rounds"


@dataclass
class OverviewData:
    rounds_trained: int = 0
    last_trained_at: float | None = None
    examples_last: int | None = None
    examples_total: int = 0
    key_metric: KeyMetric | None = None
    recent: list[str] = field(default_factory=list)


def load_overview(history: HistoryStore, profile_id: str) -> OverviewData:
    tasks = history.tasks(profile_id, limit=TASKS_READ)  # newest first
    data = OverviewData()
    examples: dict[str, int] = {}
    for task in tasks:
        if task.kind == "train" and task.status == "ok":
            data.rounds_trained += 1
            data.last_trained_at = data.last_trained_at or task.finished_at
            meta = {m.key: m.value for m in history.metrics_for(task.id, "training_metadata") if m.is_number}
            if "num_examples" in meta:
                examples[task.id] = int(meta["num_examples"])
                data.examples_total += int(meta["num_examples"])
                if data.examples_last is None:
                    data.examples_last = int(meta["num_examples"])
    data.key_metric = _key_metric(history, tasks)
    data.recent = [
        sentence
        for task in tasks
        if (sentence := round_sentence(task, examples.get(task.id), history)) is not None
    ][:RECENT_ROUNDS]
    return data


def _key_metric(history: HistoryStore, tasks: list[TaskRecord]) -> KeyMetric | None:
    checked = [t for t in reversed(tasks) if t.kind in ("validate", "preview") and t.status == "ok"]
    series: dict[str, list[float]] = {}
    for task in checked:
        for metric in history.metrics_for(task.id, "validation"):
            if metric.is_number and not is_count(metric.key):
                series.setdefault(metric.key, []).append(float(metric.value))
    if not series:
        return None
    key = next((k for k in KEY_METRICS if k in series), None)
    key = key or next((k for k in sorted(series) if lower_is_better(k) is not None), sorted(series)[0])
    return KeyMetric(key, series[key])


def round_sentence(task: TaskRecord, examples: int | None, history: HistoryStore) -> str | None:
    """One finished task as a sentence a person reads; None for tasks not worth a line."""
    where = (
        f"Round {task.round_id}" if task.round_id else time.strftime("%H:%M", time.localtime(task.started_at))
    )
    took = _seconds(task.duration)
    if task.kind == "train":
        if task.status == "ok":
            on = f"on {examples:,} of your examples " if examples is not None else "on your data "
            return f"{where}: trained {on}for {took} and sent the update. Your data stayed on this computer."
        if task.status == "failed":
            return f"{where}: training stopped with a problem; nothing was sent. See History for why."
        if task.status in ("cancelled", "interrupted"):
            return f"{where}: training was stopped before it finished; nothing was sent."
        return None
    if task.kind in ("validate", "preview") and task.status == "ok":
        values = {m.key: m.value for m in history.metrics_for(task.id, "validation") if m.is_number}
        shown = next((k for k in KEY_METRICS if k in values), None)
        result = f": {metric_label(shown).lower()} {values[shown]:.3g}" if shown else ""
        what = (
            "checked the network's model on your data before training"
            if task.kind == "preview"
            else ("checked the network's model on your data")
        )
        return (
            f"{where}: {what}{result}. Only the result was sent."
            if task.kind == "validate"
            else (f"{where}: {what}{result}. Nothing was sent.")
        )
    return None


def _seconds(duration: float | None) -> str:
    if duration is None:
        return "a moment"
    if duration < 60:
        return f"{max(1, round(duration))} s"
    return f"{duration / 60:.0f} min"

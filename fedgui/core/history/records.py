"""What the history store hands out, and how metric values are stored.

Times are seconds since the epoch (UTC), as floats: the same clock as :class:`fedgui.core.events.Event`,
cheap to compare in SQL, and turned into local time only where a person reads them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

TASK_KINDS = ("train", "validate", "predict", "startup", "preview")
RUNNING = "running"
FINISHED_STATUSES = ("ok", "failed", "cancelled", "interrupted")
METRIC_SOURCES = ("validation", "training_metadata", "live")

INTERRUPTED_MESSAGE = "fedgui was closed or crashed while this task was running."


@dataclass(frozen=True)
class TaskRecord:
    """One task as the history remembers it."""

    id: str
    profile_id: str
    kind: str
    session_id: str | None
    round_id: str | None
    model_id: str | None
    package_checksum: str | None
    started_at: float
    finished_at: float | None
    status: str
    error: str | None
    timings: dict[str, float | None] = field(default_factory=dict)
    model_update_id: str | None = None
    owner_pid: int | None = None
    log_path: Path | None = None

    @property
    def is_finished(self) -> bool:
        return self.status != RUNNING

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, or None while running."""
        return None if self.finished_at is None else self.finished_at - self.started_at


@dataclass(frozen=True)
class MetricRecord:
    """One metric value. ``value`` is a float (possibly nan/inf), a string, or decoded JSON
    (lists, dicts, None, as an entry point wrote them); ``kind`` says which."""

    task_id: str
    source: str
    key: str
    value: Any
    kind: str  # "number" | "non_finite" | "text" | "json"
    step: int | None
    recorded_at: float

    @property
    def is_number(self) -> bool:
        return self.kind in ("number", "non_finite")


class MetricPoint(NamedTuple):
    """One point of a metric plot: a value reached in a round."""

    round_id: str | None
    value: float
    finished_at: float | None


@dataclass(frozen=True)
class RoundSummary:
    """Everything this client did in one round, for the history view."""

    round_id: str
    session_id: str | None
    started_at: float
    finished_at: float | None
    task_ids: tuple[str, ...]
    kinds: tuple[str, ...]
    status: str  # the worst status among the round's tasks
    validation: dict[str, Any]  # metrics of the round's last successful validation


@dataclass(frozen=True)
class PruneResult:
    tasks_removed: int
    log_files_removed: int


# Worst first: a round shows "failed" if any of its tasks failed.
STATUS_SEVERITY = ("failed", "interrupted", "cancelled", RUNNING, "ok")


def worst_status(statuses: list[str]) -> str:
    return min(statuses, key=lambda s: STATUS_SEVERITY.index(s) if s in STATUS_SEVERITY else 0)


def encode_metric_value(value: Any) -> tuple[str, float | None, str | None]:
    """(kind, value_real, value_text) for one metric value.

    SQLite turns NaN into NULL silently, and JSON has no inf, so non-finite numbers are kept as
    text ("nan", "inf", "-inf") with their own kind; nothing an entry point reports can make the
    store fail.
    """
    if isinstance(value, bool):
        return "number", float(value), None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # an int beyond float range: keep every digit as text
            return "text", None, str(value)
        if math.isfinite(number):
            return "number", number, None
        return "non_finite", None, repr(number)
    if isinstance(value, str):
        return "text", None, value
    return "json", None, json.dumps(sanitize_for_json(value), ensure_ascii=False, default=str)


def decode_metric_value(kind: str, value_real: float | None, value_text: str | None) -> Any:
    if kind == "number":
        return value_real
    if kind == "non_finite":
        return float(value_text or "nan")
    if kind == "text":
        return value_text
    return json.loads(value_text) if value_text is not None else None


def sanitize_for_json(value: Any) -> Any:
    """Replace non-finite floats by None so ``json.dumps`` writes strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): sanitize_for_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize_for_json(v) for v in value]
    return value


def encode_timings(timings: dict[str, Any] | None) -> str | None:
    if not timings:
        return None
    cleaned = {}
    for name, seconds in timings.items():
        try:
            number = float(seconds)
        except (TypeError, ValueError):
            continue
        cleaned[str(name)] = number if math.isfinite(number) else None
    return json.dumps(cleaned)


def decode_timings(text: str | None) -> dict[str, float | None]:
    return json.loads(text) if text else {}

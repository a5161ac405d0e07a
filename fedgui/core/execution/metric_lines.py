"""Live metrics that an entry point prints: ``FEDGUI_METRIC {"loss": 0.31, "step": 12}``.

A package author adds such lines to stdout (one JSON object per line) to get live plots in
fedgui; FEDn itself just prints them, so the same package still runs under ``fedn client``.
"""

from __future__ import annotations

import json
import math
from typing import cast

from fedgui.core.events import MetricReported

METRIC_PREFIX = "FEDGUI_METRIC"


class MalformedMetricLine(ValueError):
    """A line starts with the metric prefix but is not a valid metric report."""


def is_metric_line(text: str) -> bool:
    return text.startswith(METRIC_PREFIX + " ") or text.rstrip() == METRIC_PREFIX


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_metric_line(text: str, source: str) -> MetricReported:
    """Turn one ``FEDGUI_METRIC {...}`` line into an event; raises :class:`MalformedMetricLine`."""
    payload = text[len(METRIC_PREFIX) :].strip()
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise MalformedMetricLine(f"not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise MalformedMetricLine('expected a JSON object like {"loss": 0.3, "step": 1}')
    step = data.pop("step", None)
    if step is not None and not (_is_number(step) and float(step).is_integer()):
        raise MalformedMetricLine(f"'step' must be a whole number, got {step!r}")
    not_numbers = sorted(name for name, value in data.items() if not _is_number(value))
    if not_numbers:
        raise MalformedMetricLine(f"values must be numbers; not a number: {', '.join(not_numbers)}")
    if not data:
        raise MalformedMetricLine("no metric values in the line")
    values = {str(name): float(cast(float, value)) for name, value in data.items()}  # checked above
    return MetricReported(values=values, step=None if step is None else int(step), source=source)


def has_non_finite(values: dict[str, object]) -> list[str]:
    """Names of numeric values that are NaN or infinite (worth a warning, not an error)."""
    return sorted(
        name for name, value in values.items() if _is_number(value) and not math.isfinite(cast(float, value))
    )

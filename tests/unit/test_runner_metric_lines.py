"""FEDGUI_METRIC line parsing (what package authors print for live plots)."""

from __future__ import annotations

import math

import pytest

from fedgui.core.execution.metric_lines import (
    MalformedMetricLine,
    has_non_finite,
    is_metric_line,
    parse_metric_line,
)


def test_recognises_only_the_prefix_with_a_space():
    assert is_metric_line('FEDGUI_METRIC {"a": 1}')
    assert not is_metric_line('FEDGUI_METRICS {"a": 1}')
    assert not is_metric_line('  FEDGUI_METRIC {"a": 1}')
    assert not is_metric_line("loss 0.3")


def test_parses_values_and_step():
    event = parse_metric_line('FEDGUI_METRIC {"loss": 0.5, "acc": 1, "step": 7}', source="train")
    assert event.values == {"loss": 0.5, "acc": 1.0} and event.step == 7 and event.source == "train"
    assert parse_metric_line('FEDGUI_METRIC {"loss": 0.5, "step": 3.0}', "train").step == 3


def test_nan_is_a_value_not_an_error():
    event = parse_metric_line('FEDGUI_METRIC {"loss": NaN}', "train")
    assert math.isnan(event.values["loss"])
    assert has_non_finite(event.values) == ["loss"]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("FEDGUI_METRIC", "not valid JSON"),
        ("FEDGUI_METRIC {loss: 1}", "not valid JSON"),
        ("FEDGUI_METRIC [1, 2]", "JSON object"),
        ('FEDGUI_METRIC {"loss": "low"}', "not a number: loss"),
        ('FEDGUI_METRIC {"ok": true}', "not a number: ok"),
        ('FEDGUI_METRIC {"loss": 1, "step": 1.5}', "whole number"),
        ('FEDGUI_METRIC {"step": 4}', "no metric values"),
    ],
)
def test_malformed_lines_say_why(line, words):
    with pytest.raises(MalformedMetricLine, match=words):
        parse_metric_line(line, "train")

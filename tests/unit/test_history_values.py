"""Any value an entry point can put in its metrics JSON is stored without failing."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from fedgui.core.history.records import decode_metric_value, encode_metric_value, worst_status
from fedgui.core.history.store import HistoryStore

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=10,
)


def _same_number(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@given(st.floats())
def test_every_float_comes_back_as_itself(value):
    assert _same_number(decode_metric_value(*encode_metric_value(value)), value)


@given(json_values)
def test_every_json_value_encodes_and_decodes(value):
    kind, real, text = encode_metric_value(value)
    assert kind in ("number", "non_finite", "text", "json")
    decoded = decode_metric_value(kind, real, text)
    if isinstance(value, str):
        assert decoded == value


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.text(min_size=0, max_size=20), json_values, max_size=20))
def test_storing_any_metric_dict_never_fails(tmp_path_factory, values):
    path = tmp_path_factory.mktemp("h") / "h.sqlite3"
    with HistoryStore(path) as history:
        task_id = history.start_task("p", "validate")
        history.add_metrics(task_id, "validation", values)
        assert [m.key for m in history.metrics_for(task_id)] == list(values)


def test_worst_status_orders_failure_first():
    assert worst_status(["ok", "failed", "cancelled"]) == "failed"
    assert worst_status(["ok", "interrupted"]) == "interrupted"
    assert worst_status(["ok", "ok"]) == "ok"

"""HistoryStore on real SQLite files: tasks, metrics, queries, retention, threads."""

from __future__ import annotations

import math
import os
import sqlite3
import threading

import pytest

from fedgui.core import paths
from fedgui.core.history.records import INTERRUPTED_MESSAGE
from fedgui.core.history.schema import HistoryError
from fedgui.core.history.store import HistoryStore, TaskNotFound


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path, clock):
    with HistoryStore(tmp_path / "history.sqlite3", clock=clock) as history:
        yield history


def test_default_location_is_in_the_data_dir():
    with HistoryStore() as history:
        assert history.path == paths.data_dir() / "history.sqlite3"
        assert history.logs_dir == paths.data_dir() / "logs"
        assert history.path.exists()


def test_database_is_in_wal_mode(store):
    connection = sqlite3.connect(store.path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()


def test_task_round_trip(store, clock):
    task_id = store.start_task(
        "profile-1", "train", session_id="s1", round_id="r1", model_id="m0", package_checksum="abc"
    )
    running = store.task(task_id)
    assert running.status == "running"
    assert running.finished_at is None and running.duration is None
    assert not running.is_finished

    clock.advance(12.5)
    store.finish_task(
        task_id,
        "ok",
        timings={"fetch_model": 1.0, "exec_training": 10.0, "upload_model": 1.5, "processing_time": 12.5},
        model_update_id="update-1",
    )
    done = store.task(task_id)
    assert done.status == "ok"
    assert done.duration == pytest.approx(12.5)
    assert done.timings == {
        "fetch_model": 1.0,
        "exec_training": 10.0,
        "upload_model": 1.5,
        "processing_time": 12.5,
    }
    assert done.model_update_id == "update-1"
    assert (done.session_id, done.round_id, done.model_id, done.package_checksum) == ("s1", "r1", "m0", "abc")
    assert done.log_path == store.logs_dir / "profile-1" / f"{task_id}.log"


def test_failed_task_keeps_error_text_and_nonfinite_timings_become_null(store):
    task_id = store.start_task("p", "validate")
    store.finish_task(task_id, "failed", error="validate exited with code 1", timings={"exec": math.nan})
    record = store.task(task_id)
    assert record.error == "validate exited with code 1"
    assert record.timings == {"exec": None}


def test_unknown_kind_status_source_and_task_are_rejected(store):
    with pytest.raises(ValueError):
        store.start_task("p", "dance")
    task_id = store.start_task("p", "train")
    with pytest.raises(ValueError):
        store.finish_task(task_id, "running")
    with pytest.raises(ValueError):
        store.add_metrics(task_id, "rumour", {"a": 1})
    with pytest.raises(TaskNotFound):
        store.finish_task("nope", "ok")
    with pytest.raises(TaskNotFound):
        store.add_metrics("nope", "live", {"a": 1})
    with pytest.raises(TaskNotFound):
        store.task("nope")
    with pytest.raises(TaskNotFound):
        store.open_task_log("nope")


def test_tasks_are_newest_first_and_filtered(store, clock):
    ids = []
    for index in range(5):
        ids.append(store.start_task("a" if index % 2 == 0 else "b", "train"))
        clock.advance(10)
    assert [t.id for t in store.tasks()] == ids[::-1]
    assert [t.id for t in store.tasks("a")] == [ids[4], ids[2], ids[0]]
    assert [t.id for t in store.tasks(limit=2)] == [ids[4], ids[3]]
    assert [t.id for t in store.tasks(since=clock.now - 25)] == [ids[4], ids[3]]
    assert store.tasks(kind="validate") == []


def test_tasks_started_in_the_same_instant_keep_insertion_order(store):
    first = store.start_task("p", "train")
    second = store.start_task("p", "validate")
    assert [t.id for t in store.tasks()] == [second, first]


def test_metrics_of_every_kind(store):
    task_id = store.start_task("p", "validate")
    store.add_metrics(
        task_id,
        "validation",
        {
            "accuracy": 0.93,
            "count": 120,
            "passed": True,
            "loss": math.nan,
            "upper": math.inf,
            "lower": -math.inf,
            "note": "fine",
            "per_class": [0.9, 0.95, math.nan],
            "nested": {"a": 1},
            "missing": None,
            "huge": 10**400,
        },
    )
    values = {m.key: m for m in store.metrics_for(task_id)}
    assert values["accuracy"].value == 0.93 and values["accuracy"].kind == "number"
    assert values["count"].value == 120.0
    assert values["passed"].value == 1.0
    assert math.isnan(values["loss"].value) and values["loss"].kind == "non_finite"
    assert values["upper"].value == math.inf and values["lower"].value == -math.inf
    assert values["note"].value == "fine" and not values["note"].is_number
    assert values["per_class"].value == [0.9, 0.95, None]
    assert values["nested"].value == {"a": 1}
    assert values["missing"].value is None
    assert values["huge"].value == str(10**400)


def test_live_metrics_keep_their_steps_and_sources_stay_apart(store):
    task_id = store.start_task("p", "train")
    for step in range(3):
        store.add_metrics(task_id, "live", {"loss": 1.0 / (step + 1)}, step=step)
    store.add_metrics(task_id, "training_metadata", {"num_examples": 600, "epochs": 1})
    live = store.metrics_for(task_id, "live")
    assert [(m.step, m.value) for m in live] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    assert {m.key for m in store.metrics_for(task_id, "training_metadata")} == {"num_examples", "epochs"}


def test_large_metric_dict(store):
    task_id = store.start_task("p", "validate")
    values = {f"class_{index}_accuracy": index / 10_000 for index in range(10_000)}
    store.add_metrics(task_id, "validation", values)
    stored = store.metrics_for(task_id)
    assert len(stored) == 10_000
    assert {m.key: m.value for m in stored} == values


def test_unicode_everywhere(store):
    task_id = store.start_task("профиль-診断", "validate", round_id="раунд-1", model_id="模型")
    store.add_metrics(task_id, "validation", {"точность 🎯": 0.5, "note": "überall ✓"})
    store.finish_task(task_id, "failed", error="Datei nicht gefunden: «données.csv» 😞")
    record = store.task(task_id)
    assert record.profile_id == "профиль-診断"
    assert record.error.endswith("😞")
    assert {m.key: m.value for m in store.metrics_for(task_id)} == {"точность 🎯": 0.5, "note": "überall ✓"}


def test_metric_series_is_per_round_oldest_first_and_only_successful(store, clock):
    for round_number, (status, accuracy) in enumerate([("ok", 0.5), ("failed", 0.1), ("ok", 0.7)]):
        task_id = store.start_task("p", "validate", round_id=f"r{round_number}")
        store.add_metrics(task_id, "validation", {"accuracy": accuracy, "label": "text"})
        clock.advance(5)
        store.finish_task(task_id, status)
    other = store.start_task("someone-else", "validate", round_id="r9")
    store.add_metrics(other, "validation", {"accuracy": 0.99})
    store.finish_task(other, "ok")

    series = store.metric_series("p", "accuracy")
    assert [(p.round_id, p.value) for p in series] == [("r0", 0.5), ("r2", 0.7)]
    assert series[0].finished_at < series[1].finished_at
    assert store.metric_series("p", "label") == []
    assert store.metric_series("p", "accuracy", source="live") == []


def test_round_summary(store, clock):
    train = store.start_task("p", "train", session_id="s", round_id="r1")
    clock.advance(5)
    store.finish_task(train, "ok")
    validate = store.start_task("p", "validate", session_id="s", round_id="r1")
    store.add_metrics(validate, "validation", {"accuracy": 0.8})
    clock.advance(2)
    store.finish_task(validate, "ok")
    clock.advance(60)
    failing = store.start_task("p", "train", session_id="s", round_id="r2")
    store.finish_task(failing, "failed", error="boom")
    store.start_task("p", "startup")  # no round: not in the summary

    summaries = store.round_summary("p")
    assert [s.round_id for s in summaries] == ["r2", "r1"]
    latest, first = summaries
    assert latest.status == "failed" and latest.validation == {}
    assert first.kinds == ("train", "validate")
    assert first.task_ids == (train, validate)
    assert first.status == "ok"
    assert first.validation == {"accuracy": 0.8}
    assert first.finished_at - first.started_at == pytest.approx(7)


def test_round_with_a_running_task_has_no_end(store):
    store.start_task("p", "train", round_id="r1")
    (summary,) = store.round_summary("p")
    assert summary.status == "running" and summary.finished_at is None


def test_prune_deletes_old_rows_metrics_and_log_files(store, clock):
    old = store.start_task("p", "train")
    with store.open_task_log(old) as log:
        log.write_line("old output")
    store.add_metrics(old, "live", {"loss": 1.0}, step=1)
    store.finish_task(old, "ok")
    still_running_old = store.start_task("p", "train")
    clock.advance(31 * 86400)
    recent = store.start_task("p", "validate")
    with store.open_task_log(recent) as log:
        log.write_line("recent output")
    store.finish_task(recent, "ok")

    result = store.prune(older_than_days=30)

    assert result.tasks_removed == 1 and result.log_files_removed == 1
    assert not (store.logs_dir / "p" / f"{old}.log").exists()
    assert store.task(recent).log_path.exists()
    assert {t.id for t in store.tasks()} == {recent, still_running_old}
    assert store.metrics_for(old) == []


def test_prune_removes_stray_old_log_files_but_not_fresh_ones(tmp_path):
    history = HistoryStore(tmp_path / "h.sqlite3")
    try:
        stray = history.logs_dir / "p" / "left-behind.log"
        stray.parent.mkdir(parents=True)
        stray.write_text("x")
        os.utime(stray, (1, 1))  # 1970
        fresh = history.logs_dir / "p" / "fresh.log"
        fresh.write_text("y")
        assert history.prune(older_than_days=1).log_files_removed == 1
        assert not stray.exists() and fresh.exists()
    finally:
        history.close()


def test_close_marks_this_stores_unfinished_tasks_interrupted(tmp_path):
    path = tmp_path / "h.sqlite3"
    history = HistoryStore(path)
    finished = history.start_task("p", "train")
    history.finish_task(finished, "cancelled")
    unfinished = history.start_task("p", "train")
    history.close()
    history.close()  # twice is harmless
    with HistoryStore(path) as reopened:
        assert reopened.task(unfinished).status == "interrupted"
        assert reopened.task(unfinished).error == INTERRUPTED_MESSAGE
        assert reopened.task(finished).status == "cancelled"


def test_use_after_close_is_a_plain_error(tmp_path):
    history = HistoryStore(tmp_path / "h.sqlite3")
    history.close()
    with pytest.raises(HistoryError):
        history.tasks()


def test_a_writer_thread_and_a_reader_thread(store):
    rows = 300
    errors: list[BaseException] = []
    done = threading.Event()
    seen_counts: list[int] = []

    def write() -> None:
        try:
            for index in range(rows):
                task_id = store.start_task("p", "train", round_id=f"r{index}")
                store.add_metrics(task_id, "live", {"loss": 1 / (index + 1), "step": index}, step=index)
                store.finish_task(task_id, "ok", timings={"exec_training": 0.01})
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    def read() -> None:
        try:
            while not done.is_set():
                tasks = store.tasks("p", limit=1000)
                seen_counts.append(len(tasks))
                if tasks:
                    store.metrics_for(tasks[0].id)
                store.round_summary("p", limit=10)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert seen_counts == sorted(seen_counts)  # the reader only ever saw the history grow
    assert len(store.tasks("p", limit=1000)) == rows
    assert all(t.status == "ok" for t in store.tasks("p", limit=1000))


def test_two_stores_on_one_file_see_each_others_writes(tmp_path):
    path = tmp_path / "h.sqlite3"
    with HistoryStore(path) as writer, HistoryStore(path) as reader:
        task_id = writer.start_task("p", "predict")
        assert reader.task(task_id).status == "running"  # same live process: not "interrupted"
        writer.finish_task(task_id, "ok")
        assert reader.task(task_id).status == "ok"

"""History table: rows from the HistoryStore, failed rows show their error, double-click opens the log."""

from __future__ import annotations

from PySide6.QtCore import Qt

from fedgui.gui.window.history_table import format_duration, pick_key_metric


def row_texts(window) -> list[list[str]]:
    model = window.history_table.model
    return [[model.cell_text(r, c) for c in range(6)] for r in model.rows]


def test_rows_newest_first_with_key_metric(window):
    rows = row_texts(window)
    assert rows[0][0] == "5" and rows[0][1] == "Validation" and rows[0][5] == "Accuracy 0.75"
    assert rows[1][1] == "Training" and rows[1][5] == "Number of examples 400"
    assert rows[0][4] == "Done"


def test_failed_row_shows_its_error(qtbot, window):
    rows = row_texts(window)
    failed = next(r for r in rows if r[4].startswith("Failed"))
    assert failed[0] == "3"
    assert "The training code stopped with an error" in failed[4]
    model = window.history_table.model
    row = next(i for i, r in enumerate(model.rows) if r.task.status == "failed")
    window.history_table.table.selectRow(row)
    assert "What went wrong" in window.history_table.details.text()
    assert "What went wrong" in model.data(model.index(row, 1), Qt.ItemDataRole.ToolTipRole)


def test_double_click_opens_the_task_log(qtbot, window):
    table = window.history_table.table
    model = window.history_table.model
    row = next(i for i, r in enumerate(model.rows) if r.task.kind == "train" and r.task.round_id == "4")
    rect = table.visualRect(model.index(row, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    viewer = window._open_dialogs[-1]
    qtbot.waitUntil(lambda: viewer.loaded)
    assert "training round 4 done" in viewer.text.toPlainText()
    assert viewer.text.isReadOnly()


def test_missing_log_file_is_explained(qtbot, window, history):
    task = window.history_table.model.rows[0].task
    history.task_log_path(task.id).unlink(missing_ok=True)
    viewer = window.open_task_log(task)
    qtbot.waitUntil(lambda: viewer.loaded)
    assert "not there any more" in viewer.text.toPlainText()


def test_formatting_helpers():
    assert format_duration(5.25) == "5.2 s"
    assert format_duration(125) == "2 min 5 s"
    assert format_duration(None) == ""
    assert pick_key_metric({"loss": 0.2, "accuracy": 0.9}) == "Accuracy 0.9"
    assert pick_key_metric({"zeta": 3, "alpha": 1.5}) == "Alpha 1.5"
    assert pick_key_metric({"num_examples": 90, "test_loss": 0.012}) == "Test loss 0.012"
    assert pick_key_metric({"note": "x"}) == ""


def test_a_trainings_key_metric_is_the_packages_own_loss(tmp_path):
    """FEDGUI_METRIC lines with a loss: the training's key metric is that loss, not num_examples."""
    from fedgui.core.history.store import HistoryStore
    from fedgui.gui.window.history_table import load_history_rows

    with HistoryStore(tmp_path / "h.sqlite3") as store:
        task = store.start_task("p", "train", round_id="1", model_id="m")
        store.add_metrics(task, "live", {"loss": 0.9, "accuracy": 0.5}, step=1)
        store.add_metrics(task, "live", {"loss": 0.31, "accuracy": 0.8}, step=2)
        store.add_metrics(task, "training_metadata", {"num_examples": 210, "epochs": 1})
        store.finish_task(task, "ok")
        (row,) = load_history_rows(store, "p")
    assert row.key_metric == "Loss 0.31"

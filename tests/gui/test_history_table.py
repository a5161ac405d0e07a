"""History table: rows from the HistoryStore, failed rows show their error, double-click opens the log."""

from __future__ import annotations

from PySide6.QtCore import Qt

from fedgui.gui.window.history_table import format_duration, pick_key_metric


def row_texts(window) -> list[list[str]]:
    model = window.history_table.model
    return [[model.cell_text(r, c) for c in range(6)] for r in model.rows]


def test_rows_newest_first_with_key_metric(window):
    rows = row_texts(window)
    assert rows[0][0] == "5" and rows[0][1] == "Validation" and rows[0][5] == "accuracy 0.75"
    assert rows[1][1] == "Training" and rows[1][5] == "num_examples 400"
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
    assert pick_key_metric({"loss": 0.2, "accuracy": 0.9}) == "accuracy 0.9"
    assert pick_key_metric({"zeta": 3, "alpha": 1.5}) == "alpha 1.5"
    assert pick_key_metric({"note": "x"}) == ""

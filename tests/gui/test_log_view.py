"""The live log view: batching, ring bound, filters, search, auto-scroll, copy and save."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from fedgui.core.events import EventBus, LogLine
from fedgui.gui.window.log_view import LogView
from tests.gui.conftest import emit_from_thread


@pytest.fixture
def view(qtbot):
    widget = LogView(capacity=500)
    widget.resize(800, 400)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def line(text: str, source: str = "train", level: str = "info") -> LogLine:
    return LogLine(source=source, stream="stdout", text=text, level=level)


def texts(view: LogView) -> list[str]:
    return [entry.text for entry in view.model.lines()]


def test_lines_from_the_bus_arrive_in_one_batch(qtbot, view):
    bus = EventBus()
    view.attach(bus)
    emit_from_thread(bus, *[line(f"l{i}") for i in range(100)])
    assert view.model.rowCount() == 0  # nothing until the batch timer fires
    qtbot.waitUntil(lambda: view.model.rowCount() == 100)
    assert texts(view)[:3] == ["l0", "l1", "l2"]
    view.detach()


def test_ring_keeps_only_the_newest_lines(view):
    for i in range(1600):
        view.submit(line(f"l{i}"))
        if i % 300 == 0:
            view.flush()
    view.flush()
    assert view.model.rowCount() == 500
    assert texts(view)[0] == "l1100" and texts(view)[-1] == "l1599"
    assert len(view._ring) == 500


def test_level_filter(view):
    for i, level in enumerate(["debug", "info", "warning", "error"] * 3):
        view.submit(line(f"{level} {i}", level=level))
    view.flush()
    assert {t.split()[0] for t in texts(view)} == {"info", "warning", "error"}  # debug hidden by default
    view.set_min_level("warning")
    assert {t.split()[0] for t in texts(view)} == {"warning", "error"}
    view.set_min_level("error")
    assert all(t.startswith("error") for t in texts(view))
    view.set_min_level("debug")
    assert view.model.rowCount() == 12


def test_source_filter_and_menu(view):
    view.submit(line("from train"))
    view.submit(line("from client", source="client"))
    view.submit(line("from pip", source="pip"))
    view.flush()
    assert view.sources() == ["train", "client", "pip"]
    assert [a.text() for a in view.sources_menu.actions()] == [
        "training",
        "fedgui (this app)",
        "installing packages",
    ]
    view.sources_menu.actions()[2].setChecked(False)  # as the person does in the menu
    assert texts(view) == ["from train", "from client"]
    view.set_source_shown("train", False)
    assert texts(view) == ["from client"]
    view.submit(line("another train line"))
    view.flush()
    assert texts(view) == ["from client"]
    view.set_source_shown("train", True)
    assert texts(view) == ["from train", "from client", "another train line"]


def test_search_next_previous_and_wrap(view):
    for i in range(50):
        view.submit(line(f"epoch {i}" if i % 10 == 0 else f"batch {i}"))
    view.flush()
    view.search_field.setText("EPOCH")
    found = []
    for _ in range(6):
        assert view.find_next()
        found.append(view.list_view.currentIndex().row())
    assert found == [0, 10, 20, 30, 40, 0]
    assert view.find_previous()
    assert view.list_view.currentIndex().row() == 40
    view.search_field.setText("not there")
    assert not view.find_next()
    assert view.search_status.text() == "Not found"


def test_auto_scroll_stops_when_scrolled_up_and_resumes_at_bottom(qtbot, view):
    for i in range(300):
        view.submit(line(f"l{i}"))
    view.flush()
    QApplication.processEvents()
    bar = view.list_view.verticalScrollBar()
    assert view.following and bar.value() == bar.maximum()
    bar.setValue(bar.maximum() - 50)  # the person scrolls up
    assert not view.following and view.latest_button.isVisibleTo(view)
    reading = view.model.line(bar.value()).text
    for i in range(300, 400):
        view.submit(line(f"l{i}"))
    view.flush()
    QApplication.processEvents()
    assert view.model.line(bar.value()).text == reading  # the text under the eyes stays put
    for i in range(400, 700):  # now older lines drop off the top: still in place
        view.submit(line(f"l{i}"))
    view.flush()
    QApplication.processEvents()
    assert view.model.line(bar.value()).text == reading
    bar.setValue(bar.maximum())  # back at the bottom: follows again
    assert view.following
    view.submit(line("newest"))
    view.flush()
    QApplication.processEvents()
    assert bar.value() == bar.maximum()


def test_jump_to_latest(view):
    for i in range(300):
        view.submit(line(f"l{i}"))
    view.flush()
    QApplication.processEvents()
    view.list_view.verticalScrollBar().setValue(0)
    assert not view.following
    view.latest_button.click()
    QApplication.processEvents()
    assert view.following
    assert view.list_view.verticalScrollBar().value() == view.list_view.verticalScrollBar().maximum()


def test_copy_selected_or_all(qtbot, view):
    for i in range(5):
        view.submit(line(f"l{i}"))
    view.flush()
    view.copy_selection()
    assert QApplication.clipboard().text().count("\n") == 4
    view.search_field.setText("l3")
    view.find_next()
    view.copy_selection()
    assert QApplication.clipboard().text().endswith("train     l3")


def test_save_writes_the_shown_lines(qtbot, view, tmp_path):
    for i in range(20):
        view.submit(line(f"l{i}", level="warning" if i == 7 else "info"))
    view.flush()
    target = tmp_path / "log.txt"
    with qtbot.waitSignal(view.saved, timeout=5000) as saved:
        view.save_to(target)
    assert saved.args == [str(target)]
    lines = target.read_text().splitlines()
    assert len(lines) == 20 and lines[7].endswith("l7")


def test_save_failure_is_reported(qtbot, view, tmp_path):
    view.submit(line("x"))
    view.flush()
    with qtbot.waitSignal(view.save_failed, timeout=5000) as failed:
        view.save_to(tmp_path / "missing-folder" / "log.txt")
    assert "could not be saved" in failed.args[0]


def test_flood_shows_newest_lines_then_rebuilds_the_full_view(qtbot):
    from fedgui.gui.window.log_view import FLOOD_SHOWN

    view = LogView(capacity=10_000)
    qtbot.addWidget(view)
    view.show()
    for i in range(12_000):
        view.submit(line(f"l{i}"))
    view.flush()
    assert view.model.rowCount() == FLOOD_SHOWN  # the flood: only its newest lines
    assert texts(view)[-1] == "l11999"
    view.flush()  # nothing new: the flood is over
    assert view.model.rowCount() == 10_000
    assert texts(view)[0] == "l2000" and texts(view)[-1] == "l11999"


def test_flood_while_scrolled_up_keeps_the_view_still(qtbot):
    view = LogView(capacity=10_000)
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.show()
    for i in range(300):
        view.submit(line(f"old {i}"))
    view.flush()
    QApplication.processEvents()
    view.list_view.verticalScrollBar().setValue(10)
    reading = texts(view)[10]
    for i in range(8_000):
        view.submit(line(f"flood {i}"))
    view.flush()
    view.flush()
    assert texts(view)[10] == reading and view.model.rowCount() == 300
    view.follow_latest()
    assert view.model.rowCount() == 8_300 and texts(view)[-1] == "flood 7999"

"""gui.threads: the one way the GUI hops threads, with real pool threads and real widgets."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QLabel

from fedgui.gui import threads


def test_background_work_runs_off_the_ui_thread_and_answers_on_it(qtbot):
    owner = QLabel()
    qtbot.addWidget(owner)
    ui_thread = threading.current_thread()
    seen: dict[str, object] = {}

    def work() -> int:
        seen["work thread"] = threading.current_thread()
        return 42

    def done(result: int) -> None:
        seen["result"] = result
        seen["done thread"] = threading.current_thread()

    threads.run_in_background(work, on_done=done, owner=owner)
    qtbot.waitUntil(lambda: "result" in seen)
    assert seen["work thread"] is not ui_thread
    assert seen["done thread"] is ui_thread and seen["result"] == 42


def test_an_error_reaches_on_error_on_the_ui_thread(qtbot):
    errors: list[BaseException] = []

    def work() -> None:
        raise OSError("disk full")

    threads.run_in_background(work, on_error=errors.append, owner=None)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], OSError) and str(errors[0]) == "disk full"


def test_callbacks_of_a_deleted_owner_are_skipped(qtbot):
    owner = QLabel()
    release = threading.Event()
    called: list[str] = []
    threads.run_in_background(lambda: release.wait(10), on_done=lambda _r: called.append("done"), owner=owner)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not _valid(owner))
    threads.on_main_thread(lambda: called.append("queued"), owner=owner)
    release.set()
    assert threads.wait_for_background_work(10_000)
    marker: list[bool] = []
    threads.on_main_thread(lambda: marker.append(True), owner=None)  # queued after both
    qtbot.waitUntil(lambda: bool(marker))
    assert called == []


def test_main_thread_sink_hands_every_value_over_in_order(qtbot):
    owner = QLabel()
    qtbot.addWidget(owner)
    received: list[tuple[int, threading.Thread]] = []
    sink = threads.main_thread_sink(lambda v: received.append((v, threading.current_thread())), owner=owner)
    worker = threading.Thread(target=lambda: [sink(i) for i in range(100)])
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(received) == 100)
    assert [v for v, _ in received] == list(range(100))
    assert {t for _, t in received} == {threading.current_thread()}


@pytest.fixture
def synchronous():
    threads.run_synchronously(True)
    yield
    threads.run_synchronously(False)


def test_synchronous_switch_runs_work_at_once_on_the_caller(synchronous):
    ui_thread = threading.current_thread()
    results: list[object] = []
    threads.run_in_background(lambda: threading.current_thread(), on_done=results.append, owner=None)
    threads.run_in_background(lambda: 1 / 0, on_error=results.append, owner=None)
    assert results[0] is ui_thread
    assert isinstance(results[1], ZeroDivisionError)


def _valid(widget) -> bool:
    import shiboken6

    return shiboken6.isValid(widget)

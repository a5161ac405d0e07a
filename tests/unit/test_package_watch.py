"""How the session decides that the network's compute package changed (the decision alone; the
real controller's answers are in tests/interop/test_package_watch_interop.py)."""

from __future__ import annotations

import threading
import time

from fedgui.core.controller.client import PublishedPackage
from fedgui.core.controller.errors import ControllerUnreachable
from fedgui.core.session.package_watch import PackageChangeDetector, PackageWatcher

OURS = "a" * 64
OTHER = "b" * 64
FIRST = PublishedPackage("first-upload.tgz", 706)
SECOND = PublishedPackage("second-upload.tgz", 706)


class Controller:
    """What the controller answers right now; counts the checksum questions."""

    def __init__(self, published: PublishedPackage | None, checksum: str | None) -> None:
        self.published = published
        self.checksum = checksum
        self.checksum_reads = 0

    def read_published(self) -> PublishedPackage | None:
        return self.published

    def read_checksum(self) -> str | None:
        self.checksum_reads += 1
        return self.checksum


def detector(controller: Controller, at_start: PublishedPackage | None) -> PackageChangeDetector:
    return PackageChangeDetector(controller.read_published, controller.read_checksum, OURS, at_start)


def test_fedn_033_without_a_checksum_a_new_upload_is_noticed_by_its_name():
    controller = Controller(FIRST, None)  # the 404 {"checksum": null} of FEDn 0.33
    watch = detector(controller, FIRST)
    assert not watch.check()
    controller.published = SECOND
    assert watch.check()


def test_the_checksum_is_asked_only_when_the_name_changed():
    controller = Controller(FIRST, OURS)
    watch = detector(controller, FIRST)
    for _ in range(5):
        assert not watch.check()
    assert controller.checksum_reads == 0  # FEDn hashes the whole file for each question
    controller.published, controller.checksum = SECOND, OTHER
    assert watch.check()


def test_the_same_bytes_uploaded_again_are_no_change():
    controller = Controller(FIRST, OURS)
    watch = detector(controller, FIRST)
    controller.published = SECOND  # a new upload ...
    assert not watch.check()  # ... of the package we run (same checksum)
    assert not watch.check()
    assert controller.checksum_reads == 1  # the new name is now ours


def test_without_names_the_checksum_alone_decides():
    controller = Controller(None, OURS)
    watch = detector(controller, None)
    assert not watch.check()
    controller.checksum = None  # the controller cannot say: no reason to interrupt anything
    assert not watch.check()
    controller.checksum = OTHER
    assert watch.check()


def test_a_name_learnt_late_is_taken_as_ours_only_when_nothing_says_otherwise():
    controller = Controller(FIRST, None)
    watch = detector(controller, None)  # the read at start-up failed
    assert not watch.check()
    controller.published = SECOND
    assert watch.check()
    controller = Controller(FIRST, OTHER)
    assert detector(controller, None).check()


def test_the_watcher_skips_checks_while_the_controller_is_away_and_reports_a_change_once():
    answers = iter([ControllerUnreachable("away"), ControllerUnreachable("away"), False, True, True])

    def read_published() -> PublishedPackage | None:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return SECOND if answer else FIRST

    changes: list[float] = []
    noticed = threading.Event()

    def on_change() -> None:
        changes.append(time.monotonic())
        noticed.set()

    watch = PackageChangeDetector(read_published, lambda: None, OURS, FIRST)
    watcher = PackageWatcher(watch, interval=0.05, on_change=on_change)
    watcher.start()
    assert noticed.wait(5)
    watcher.join(5)
    assert not watcher.is_alive()  # it stops after the first change
    assert len(changes) == 1


def test_stop_ends_the_watcher_without_a_report():
    interval = 0.05
    controller = Controller(FIRST, None)
    changes: list[int] = []
    watcher = PackageWatcher(detector(controller, FIRST), interval, lambda: changes.append(1))
    watcher.start()
    time.sleep(interval * 3)
    watcher.stop()
    watcher.join(2)
    assert not watcher.is_alive() and not changes

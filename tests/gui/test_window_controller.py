"""The main window's controller on its own, without a single widget: what the person's actions
do to the session, and what it learns from the session's events (sent from another thread)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QWidget

from fedgui.core.events import ProfileSaved, ReviewNeeded, StateChanged
from fedgui.core.session.states import SessionState
from fedgui.gui.window.controller import SessionController
from tests.gui.conftest import RecordingSession, emit_from_thread


@pytest.fixture
def controller(qtbot, profiles, sessions, secrets):
    def factory(profile, bus):
        sessions.append(RecordingSession(profile, bus))
        return sessions[-1]

    made = SessionController(factory, secrets)
    made.show_profile(profiles[0])
    yield made
    made.detach()


def test_it_creates_no_widget(qtbot, profiles, secrets):
    before = len(QApplication.allWidgets())
    made = SessionController(lambda p, b: RecordingSession(p, b), secrets)
    made.show_profile(profiles[0])
    made.start_or_resume()
    assert len(QApplication.allWidgets()) == before
    assert made.findChildren(QWidget) == []
    made.detach()


def test_start_pause_resume_stop(qtbot, controller, sessions):
    assert controller.start_or_resume()
    session = sessions[0]
    emit_from_thread(session.bus, StateChanged(state=SessionState.READY))
    qtbot.waitUntil(lambda: controller.state is SessionState.READY)
    assert controller.running
    controller.pause()
    emit_from_thread(session.bus, StateChanged(state=SessionState.PAUSED))
    qtbot.waitUntil(lambda: controller.state is SessionState.PAUSED)
    controller.start_or_resume()
    controller.stop()
    assert session.names() == ["start", "pause", "resume", "stop"]


def test_review_and_approval_come_from_events(qtbot, controller, sessions, profiles):
    controller.start_or_resume()
    session = sessions[0]
    package = type("Package", (), {"checksum": "cd" * 32})()
    emit_from_thread(
        session.bus, ReviewNeeded(package, None, None), StateChanged(state=SessionState.REVIEW_NEEDED)
    )
    qtbot.waitUntil(lambda: controller.state is SessionState.REVIEW_NEEDED)
    assert controller.review.package is package
    controller.approve(package.checksum)
    assert session.calls[-1] == ("approve_package", "cd" * 32)
    saved = profiles[0]
    saved.approve(package.checksum)
    with qtbot.waitSignal(controller.profile_changed) as changed:
        emit_from_thread(session.bus, ProfileSaved(saved), StateChanged(state=SessionState.READY))
    assert changed.args[0].last_approved_checksum == "cd" * 32
    qtbot.waitUntil(lambda: controller.review is None)


def test_a_new_token_is_saved_and_handed_to_the_session(qtbot, controller, sessions, secrets, profiles):
    controller.start_or_resume()
    with qtbot.waitSignal(controller.token_saved):
        controller.use_new_token("fresh")
    assert secrets.tokens[profiles[0].id] == "fresh"
    assert ("update_token", "fresh") in sessions[0].calls


def test_without_a_profile_there_is_nothing_to_start(qtbot, sessions, secrets):
    empty = SessionController(lambda p, b: RecordingSession(p, b), secrets)
    assert not empty.start_or_resume()
    empty.detach()


def test_stop_then_waits_for_a_running_session(qtbot, controller, sessions):
    controller.start_or_resume()
    emit_from_thread(sessions[0].bus, StateChanged(state=SessionState.WORKING))
    qtbot.waitUntil(lambda: controller.running)
    finished = []
    controller.stop_then(lambda: finished.append(True))
    qtbot.waitUntil(lambda: bool(finished))
    assert sessions[0].names()[-1] == "stop"

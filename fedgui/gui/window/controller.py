"""What the main window controls, without a widget: the chosen profile, its session, the event
bus the session emits into, and the actions (start, pause, resume, stop, retry, approve, reject,
new token).

The controller keeps the little it needs to decide what an action means (the last state, the
package under review) and learns all of it from events, on the UI thread; it never reads the
session's attributes, which belong to the session's thread. Views subscribe to
:attr:`SessionController.event_arrived` (every event but log lines; those go from the bus straight
into the log view's batch) and to :attr:`profile_changed`.

Each session emits into a bus of its own, passed on to :attr:`SessionController.bus` only while
it is the current one: a session let go (the person switched networks) still says "stopped" a
moment later, and that must not reach the views of the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from fedgui.core.events import (
    Event,
    EventBus,
    LogLine,
    ProfileSaved,
    ReviewNeeded,
    StateChanged,
)
from fedgui.core.history.store import HistoryStore
from fedgui.core.profile import Profile, ProfileStore
from fedgui.core.secrets import SecretStore
from fedgui.core.session.states import NOT_RUNNING, SessionState
from fedgui.gui.threads import main_thread_sink, run_in_background


class SessionLike(Protocol):
    """The controls of :class:`fedgui.core.session.engine.Session` the window uses. All but
    :meth:`stop_and_wait` return at once; the session's thread carries them out."""

    def start(self) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def request_stop(self) -> None: ...
    def stop_and_wait(self, timeout: float = 30.0) -> None: ...
    def approve_package(
        self, checksum: str, permissions: Any = None, run_unisolated: bool = False
    ) -> None: ...
    def reject_package(self) -> None: ...
    def update_token(self, token: str) -> None: ...
    def retry(self) -> None: ...


SessionFactory = Callable[[Profile, EventBus], SessionLike]


def real_session_factory(history: HistoryStore, store: ProfileStore, secrets: SecretStore) -> SessionFactory:
    def make(profile: Profile, bus: EventBus) -> SessionLike:
        from fedgui.core.session.engine import Session

        # Re-read each time: a new token may have been saved meanwhile.
        return Session(
            profile, lambda: secrets.get_token(profile.id), bus=bus, history=history, profile_store=store
        )

    return make


class SessionController(QObject):
    """The session of the profile the window shows, and what the person can ask of it."""

    event_arrived = Signal(object)  # every event except log lines, on the UI thread
    profile_changed = Signal(object)  # the shown profile, after a switch, a settings save or an approval
    token_saved = Signal()
    token_not_saved = Signal(object)  # the exception; the session uses the token anyway

    def __init__(self, session_factory: SessionFactory, secrets: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session_factory = session_factory
        self.secrets = secrets
        self.profile: Profile | None = None
        self.session: SessionLike | None = None
        self.state = SessionState.IDLE
        self.review: ReviewNeeded | None = None  # the package waiting for the person, from the session
        self.bus = EventBus()
        self._generation = 0  # counts sessions let go; events carry the count they were sent in
        self._to_ui_thread = main_thread_sink(self._on_sent_event, owner=self)
        self._unsubscribe = self.bus.subscribe(self._from_bus)

    @property
    def running(self) -> bool:
        return self.state not in NOT_RUNNING

    # --- events -------------------------------------------------------------------------------

    def _from_session(self, event: Event, generation: int) -> None:
        # On the session's thread: pass on only what the current session says.
        if generation == self._generation:
            self.bus.emit(event)

    def _from_bus(self, event: Event) -> None:
        # On the emitting thread: hand over and return at once. Log lines never cross one by one.
        if not isinstance(event, LogLine):
            self._to_ui_thread((self._generation, event))

    def _on_sent_event(self, sent: tuple[int, Event]) -> None:
        generation, event = sent
        if generation == self._generation:  # else sent before its session was let go
            self._on_event(event)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, StateChanged):
            self.state = event.state
            if event.state is not SessionState.REVIEW_NEEDED:
                self.review = None
        elif isinstance(event, ReviewNeeded):
            self.review = event
        elif isinstance(event, ProfileSaved) and self.profile and event.profile.id == self.profile.id:
            self.profile = event.profile
            self.profile_changed.emit(event.profile)
        self.event_arrived.emit(event)

    def detach(self) -> None:
        """Stop listening to the bus (the window is closing)."""
        self._unsubscribe()

    # --- profiles -----------------------------------------------------------------------------

    def show_profile(self, profile: Profile) -> None:
        """Make ``profile`` the shown one; a running session of the previous one stops in the
        background. Views learn of it through :attr:`profile_changed` and an IDLE state."""
        old = self.session
        if old is not None and self.running:
            old.request_stop()
        self._let_go()
        self.profile = profile
        self.review = None
        self.profile_changed.emit(profile)
        self._on_event(StateChanged(state=SessionState.IDLE))

    def replace_profile(self, profile: Profile) -> None:
        """The settings of the shown profile were saved. A session that is not running is
        dropped, so the next start uses them; a running one keeps its own copy until then."""
        if self.profile is None or profile.id != self.profile.id:
            return
        self.profile = profile
        if not self.running:
            self._let_go()
        self.profile_changed.emit(profile)

    def _let_go(self) -> None:
        """Forget the session; whatever it still says is dropped."""
        self.session = None
        self._generation += 1

    def _new_session(self, profile: Profile) -> SessionLike:
        generation = self._generation
        session_bus = EventBus()
        session_bus.subscribe(lambda event: self._from_session(event, generation))
        return self.session_factory(profile, session_bus)

    # --- actions ------------------------------------------------------------------------------

    def start_or_resume(self) -> bool:
        """Start (or resume) taking part; False when there is no profile to start with."""
        if self.profile is None:
            return False
        if self.state is SessionState.PAUSED and self.session is not None:
            self.session.resume()
            return True
        if self.running:
            return True
        if self.state is SessionState.STOPPED:
            self._let_go()  # a stopped session's thread has ended: start with a fresh one
        if self.session is None:
            self.session = self._new_session(self.profile)
        self.session.start()  # starts the session thread and returns at once
        return True

    def pause(self) -> None:
        if self.session is not None:
            self.session.pause()  # a request: the session thread closes the stream

    def stop(self) -> None:
        if self.session is not None:
            self.session.request_stop()

    def retry(self) -> None:
        if self.session is not None:
            self.session.retry()

    def approve(self, checksum: str, permissions: Any = None, run_unisolated: bool = False) -> None:
        """The person approved the package under review (with what they allowed this version
        beyond the isolation, and their agreement to run unisolated); the session saves it."""
        if self.session is None:
            return
        if permissions is None and not run_unisolated:
            self.session.approve_package(checksum)
        else:
            self.session.approve_package(checksum, permissions, run_unisolated)

    def reject(self) -> None:
        if self.session is not None:
            self.session.reject_package()

    def use_new_token(self, token: str) -> None:
        """Save ``token`` in the keyring (in the background) and hand it to the session; even if
        the keyring refuses, this run uses it."""
        if self.profile is None:
            return
        profile_id, session, secrets = self.profile.id, self.session, self.secrets

        def store_and_use() -> None:
            try:
                secrets.set_token(profile_id, token)
            finally:
                if session is not None:
                    session.update_token(token)

        run_in_background(
            store_and_use,
            on_done=lambda _r: self.token_saved.emit(),
            on_error=self.token_not_saved.emit,
            owner=self,
        )

    def stop_then(self, finished: Callable[[], None]) -> None:
        """Stop a running session (in the background), then call ``finished`` on the UI thread."""
        session = self.session if self.running else None
        if session is None:
            QTimer.singleShot(0, finished)  # never inside the caller (it may be a closeEvent)
            return
        run_in_background(
            session.stop_and_wait,
            on_done=lambda _r: finished(),
            on_error=lambda _e: finished(),
            owner=self,
        )

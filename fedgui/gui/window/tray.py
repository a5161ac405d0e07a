"""The tray icon: the session's state at a glance, a small menu, and notifications that matter
(a round finished, a problem, the token expired, a package waiting for review)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from fedgui.core.events import Event, StateChanged, TaskFinished
from fedgui.core.session.states import SessionState, describe
from fedgui.gui.common import theme
from fedgui.gui.window.history_table import KIND_WORDS


@dataclass(frozen=True)
class Notification:
    title: str
    text: str
    severity: str  # "info" | "warning" | "error"


def notification_for(event: Event, previous_state: SessionState | None) -> Notification | None:
    """What (if anything) to tell the person about an event when the window may be hidden."""
    if isinstance(event, TaskFinished):
        what = KIND_WORDS.get(event.kind, event.kind)
        if event.status == "ok":
            return Notification(f"{what} finished", "This computer's part of the round is done.", "info")
        if event.status == "failed":
            return Notification(f"{what} failed", event.error or "See the log for details.", "error")
        return None
    if isinstance(event, StateChanged):
        state = event.state
        if state is previous_state:
            return None
        if state is SessionState.TOKEN_EXPIRED:
            return Notification(describe(state), "Open fedgui and enter a new access token.", "warning")
        if state is SessionState.TOKEN_REJECTED:
            return Notification(describe(state), "Open fedgui and check the access token.", "warning")
        if state is SessionState.REVIEW_NEEDED:
            return Notification(
                "A package update waits for your review",
                "Nothing new runs until you look at it and approve it.",
                "warning",
            )
        if state is SessionState.ERROR:
            return Notification(describe(state), str(event.error or event.detail), "error")
    return None


_ICONS = {
    "info": QSystemTrayIcon.MessageIcon.Information,
    "warning": QSystemTrayIcon.MessageIcon.Warning,
    "error": QSystemTrayIcon.MessageIcon.Critical,
}


class Tray(QObject):
    """Wraps :class:`QSystemTrayIcon`; works (silently) where the desktop has no tray."""

    show_window_requested = Signal()
    start_requested = Signal()
    pause_requested = Signal()
    quit_requested = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.available = QSystemTrayIcon.isSystemTrayAvailable()
        self.sent: list[Notification] = []  # every notification, also where no tray exists
        self.state: SessionState | None = None
        self.icon = QSystemTrayIcon(theme.app_icon(), self)
        self.menu = QMenu()
        self.status_action = QAction("Not taking part", self.menu)
        self.status_action.setEnabled(False)
        self.show_action = QAction("&Show fedgui", self.menu)
        self.show_action.triggered.connect(self.show_window_requested)
        self.start_action = QAction("&Start taking part", self.menu)
        self.start_action.triggered.connect(self.start_requested)
        self.pause_action = QAction("Pa&use", self.menu)
        self.pause_action.triggered.connect(self.pause_requested)
        self.quit_action = QAction("&Quit (stop taking part)", self.menu)
        self.quit_action.triggered.connect(self.quit_requested)
        for action in (
            self.status_action,
            None,
            self.show_action,
            self.start_action,
            self.pause_action,
            None,
        ):
            if action is None:
                self.menu.addSeparator()
            else:
                self.menu.addAction(action)
        self.menu.addAction(self.quit_action)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.icon.setToolTip("fedgui")
        if self.available:
            self.icon.show()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.show_window_requested.emit()

    def show_state(
        self, state: SessionState, headline: str, start_enabled: bool, pause_enabled: bool
    ) -> None:
        self.state = state
        self.icon.setIcon(
            theme.state_icon(state.value) if state is not SessionState.IDLE else theme.app_icon()
        )
        self.icon.setToolTip(f"fedgui: {headline}")
        self.status_action.setText(headline)
        self.start_action.setEnabled(start_enabled)
        self.start_action.setText("&Resume" if state is SessionState.PAUSED else "&Start taking part")
        self.pause_action.setEnabled(pause_enabled)

    def handle_event(self, event: Event) -> Notification | None:
        """Notify about the event if it deserves it."""
        note = notification_for(event, self.state)
        if note:
            self.notify(note)
        return note

    def notify(self, note: Notification) -> None:
        self.sent.append(note)
        if self.available and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(note.title, note.text, _ICONS[note.severity], 10_000)

    def hide(self) -> None:
        self.icon.hide()

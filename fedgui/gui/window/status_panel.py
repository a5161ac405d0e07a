"""The top of the main window: what the session is doing, in words and an icon, and the buttons
that control it (Start / Pause / Stop, and the action a waiting state needs)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from fedgui.core.session.states import NOT_RUNNING, SessionState
from fedgui.gui.common import theme
from fedgui.gui.window.plain_words import plain_headline

#: States in which the session thread is not running at all.


@dataclass(frozen=True)
class ButtonStates:
    start: bool
    start_text: str
    pause: bool
    stop: bool


def button_states(state: SessionState) -> ButtonStates:
    """Which participation buttons make sense in a state (pure, so it is easy to test)."""
    if state in NOT_RUNNING:
        return ButtonStates(start=True, start_text="&Start taking part", pause=False, stop=False)
    if state is SessionState.PAUSED:
        return ButtonStates(start=True, start_text="&Resume", pause=False, stop=True)
    if state is SessionState.PAUSING or state.is_waiting_for_person:
        # Pausing: already on its way; waiting states: the person's answer is what's needed.
        return ButtonStates(start=False, start_text="&Start taking part", pause=False, stop=True)
    return ButtonStates(start=False, start_text="&Start taking part", pause=True, stop=True)


def headline(state: SessionState, detail: str) -> str:
    """The big line, in plain words ("Training on your data (round 7)"); the session's own
    detail stays in the log."""
    return plain_headline(state, detail)


#: Under the headline "The network has a new version of its code", next to [Review changes…].
NEW_VERSION_TEXT = "Review it to keep taking part."


class StatusPanel(QFrame):
    """Shows one session state; emits what the person asks for."""

    start_clicked = Signal()
    pause_clicked = Signal()
    stop_clicked = Signal()
    new_token_clicked = Signal()
    review_clicked = Signal()
    retry_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.state = SessionState.IDLE
        self.since: float = time.time()

        self.icon_label = QLabel()
        self.icon_label.setFixedSize(QSize(48, 48))
        self.headline_label = QLabel()
        self.headline_label.setAccessibleName("What fedgui is doing")
        font = QFont(self.headline_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.headline_label.setFont(font)
        self.headline_label.setWordWrap(True)
        self.context_label = QLabel()
        self.context_label.setWordWrap(True)
        self.context_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.isolation_label = QLabel()
        self.isolation_label.setWordWrap(True)
        self.isolation_label.setAccessibleName("What the network's code can reach on this computer")
        self.isolation_label.hide()
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem_label.setAccessibleName("What went wrong")
        self.problem_label.hide()

        self.token_button = QPushButton("Enter new to&ken…")
        self.token_button.setToolTip("Paste the new access token from your network's operator")
        self.token_button.clicked.connect(self.new_token_clicked)
        self.review_button = QPushButton("Revie&w changes…")
        self.review_button.setToolTip("Look at the network's code before allowing it to run")
        self.review_button.clicked.connect(self.review_clicked)
        self.retry_button = QPushButton("Try &again")
        self.retry_button.clicked.connect(self.retry_clicked)
        actions = QHBoxLayout()
        for button in (self.token_button, self.review_button, self.retry_button):
            button.hide()
            actions.addWidget(button)
        actions.addStretch(1)

        self.start_button = QPushButton(theme.icon("action-start"), "&Start taking part")
        self.start_button.setAccessibleName("Start or resume taking part")
        self.start_button.clicked.connect(self.start_clicked)
        self.pause_button = QPushButton(theme.icon("action-pause"), "Pa&use")
        self.pause_button.setToolTip("Finish the current task, then stop accepting work until you resume")
        self.pause_button.clicked.connect(self.pause_clicked)
        self.stop_button = QPushButton(theme.icon("action-stop"), "S&top")
        self.stop_button.setToolTip("Stop taking part now (a running task is cancelled)")
        self.stop_button.clicked.connect(self.stop_clicked)
        controls = QVBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            button.setMinimumWidth(150)
            controls.addWidget(button)
        controls.addStretch(1)

        text = QVBoxLayout()
        text.addWidget(self.headline_label)
        text.addWidget(self.context_label)
        text.addWidget(self.isolation_label)
        text.addWidget(self.problem_label)
        text.addLayout(actions)
        text.addStretch(1)

        grid = QGridLayout(self)
        grid.addWidget(self.icon_label, 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addLayout(text, 0, 1)
        grid.addLayout(controls, 0, 2)
        grid.setColumnStretch(1, 1)
        self.setTabOrder(self.start_button, self.pause_button)
        self.setTabOrder(self.pause_button, self.stop_button)
        self.setTabOrder(self.stop_button, self.token_button)
        self.setTabOrder(self.token_button, self.review_button)
        self.setTabOrder(self.review_button, self.retry_button)

        self.network_text = ""
        self.controller_url = ""
        self.combiner_text = ""
        self.extra_text = ""
        self.show_state(SessionState.IDLE)

    # --- updates ------------------------------------------------------------------------------

    def set_network(self, name: str, controller_url: str) -> None:
        self.network_text = f"Network: {name}"
        self.controller_url = controller_url
        self._update_context()

    def set_combiner(self, combiner: str) -> None:
        # The server's address is for support: a tooltip, not the text a person reads.
        self.combiner_text = f"Combiner: {combiner}" if combiner else ""
        self._update_context()

    def set_extra(self, text: str) -> None:
        """One more short fact, e.g. the running task's processor and memory use."""
        self.extra_text = text
        self._update_context()

    def set_isolation(self, text: str) -> None:
        """What the package can reach (``fedgui.core.execution.sandbox.describe_for_profile``)."""
        self.isolation_label.setText(text)
        self.isolation_label.setVisible(bool(text))

    def show_state(
        self,
        state: SessionState,
        detail: str = "",
        error: Exception | str | None = None,
        at: float | None = None,
    ) -> None:
        if state is not self.state:
            self.since = at or time.time()
        self.state = state
        self.headline_label.setText(headline(state, detail))
        self.icon_label.setPixmap(theme.state_icon(state.value).pixmap(QSize(48, 48)))
        problem = str(error) if error else ""
        if state is SessionState.REVIEW_NEEDED:
            problem = NEW_VERSION_TEXT  # not two checksums and a command-line hint
        self.problem_label.setText(problem)
        self.problem_label.setVisible(bool(problem))
        self.token_button.setVisible(state in (SessionState.TOKEN_EXPIRED, SessionState.TOKEN_REJECTED))
        self.review_button.setVisible(state is SessionState.REVIEW_NEEDED)
        self.retry_button.setVisible(state is SessionState.ERROR)
        buttons = button_states(state)
        self.start_button.setEnabled(buttons.start)
        self.start_button.setText(buttons.start_text)
        self.pause_button.setEnabled(buttons.pause)
        self.stop_button.setEnabled(buttons.stop)
        self._update_context()

    def _update_context(self) -> None:
        since = time.strftime("%H:%M", time.localtime(self.since))
        where = self.network_text
        technical = [f"Controller: {self.controller_url}" if self.controller_url else "", self.combiner_text]
        self.context_label.setToolTip("\n".join(t for t in technical if t))
        when = "   ·   ".join(p for p in (f"Since {since}", self.extra_text) if p)
        self.context_label.setText(f"{where}\n{when}" if where else when)

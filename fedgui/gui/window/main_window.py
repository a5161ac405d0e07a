"""The main window: the session's state and controls on top, then tabs for the live log,
metric plots, the task history and the computer's resource use.

The window only lays out widgets and connects them to its :class:`SessionController`, which owns
the event bus, the session and the actions. Log lines go straight from the bus into the log
view's batch (no per-line signal); every other event arrives from the controller on the UI
thread. Anything that may block (stopping a session, saving, reading the history) runs on a
worker thread.
"""

from __future__ import annotations

import os
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from fedgui.core.events import (
    Assigned,
    Event,
    MetricReported,
    ResourceUsage,
    StateChanged,
    TaskFinished,
    TaskStarted,
    TransferProgress,
    client_line,
)
from fedgui.core.execution.sandbox import describe_for_profile
from fedgui.core.history.store import HistoryStore
from fedgui.core.profile import Profile, ProfileStore
from fedgui.core.session.states import NOT_RUNNING, SessionState
from fedgui.gui.common import theme
from fedgui.gui.review.dialog import PackageReviewDialog
from fedgui.gui.settings.dialog import AppPreferences, PreferencesStore, SettingsDialog
from fedgui.gui.threads import run_in_background
from fedgui.gui.window.controller import SessionController, SessionFactory, real_session_factory
from fedgui.gui.window.history_table import KIND_WORDS, HistoryTable
from fedgui.gui.window.log_file_viewer import LogFileViewer
from fedgui.gui.window.log_view import LogView
from fedgui.gui.window.metric_plots import MetricPlots
from fedgui.gui.window.overview import Overview
from fedgui.gui.window.plain_words import plain_headline
from fedgui.gui.window.resource_meter import ResourceMeter
from fedgui.gui.window.status_panel import StatusPanel, button_states
from fedgui.gui.window.tray import Tray
from fedgui.gui.wizard.wizard import ConnectionWizard

STARTUP_MARKER_VARIABLE = "FEDGUI_STARTUP_MARKER"  # "-" prints FIRST_SHOWN, else a file path


def open_connection_wizard(parent: QWidget | None, store: ProfileStore, secrets: Any) -> ConnectionWizard:
    """The connection wizard for one more network. The caller learns about the new profile from
    the wizard's ``profile_saved`` signal or by re-reading the store when it finishes."""
    return ConnectionWizard(store, secrets, parent)


class MainWindow(QMainWindow):
    """One window showing the :class:`SessionController`'s profile and session."""

    quitting = Signal()
    first_shown = Signal()

    def __init__(
        self,
        profiles: list[Profile],
        *,
        profile_store: ProfileStore,
        history: HistoryStore,
        secrets: Any,
        session_factory: SessionFactory | None = None,
        preferences: PreferencesStore | None = None,
        current_profile_id: str | None = None,
    ) -> None:
        super().__init__()
        self.profile_store = profile_store
        self.history = history
        self.secrets = secrets
        self.preferences_store = preferences or PreferencesStore()
        self.preferences: AppPreferences = self.preferences_store.preferences()
        self.profiles = list(profiles)
        self.really_quit = False
        self.quit_question: QMessageBox | None = None
        self._shown_once = False
        self._open_dialogs: list[QWidget] = []
        self.controller = SessionController(
            session_factory or real_session_factory(history, profile_store, secrets), secrets, self
        )

        self.setWindowTitle("fedgui")
        self.setWindowIcon(theme.app_icon())
        self.resize(*fitting_size(1180, 720))
        self._build_widgets()
        self._build_actions()
        self.log_view.attach(self.controller.bus)
        self.tray = Tray(self)
        self._connect_tray()
        self._connect_controller()

        chosen = next((p for p in self.profiles if p.id == current_profile_id), None)
        chosen = chosen or (self.profiles[0] if self.profiles else None)
        self._fill_profile_choice()
        if chosen:
            self.switch_profile(chosen)
        self._update_controls()

    # --- construction -------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.status_panel = StatusPanel()
        self.overview = Overview()
        self.log_view = LogView()
        self.plots = MetricPlots()
        self.history_table = HistoryTable()
        self.resource_meter = ResourceMeter()
        resource_page = QWidget()
        resource_layout = QVBoxLayout(resource_page)
        resource_layout.addWidget(self.resource_meter)
        resource_layout.addStretch(1)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Views")
        # The overview first: a person sees what is happening in words; the log is the details.
        self.tabs.addTab(self.overview, "&Overview")
        self.tabs.addTab(self.plots, "&Results")
        self.tabs.addTab(self.history_table, "H&istory")
        self.tabs.addTab(resource_page, "&Computer use")
        self.tabs.addTab(self.log_view, "Details: &log")

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.status_panel)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.transfer_label = QLabel()
        self.statusBar().addPermanentWidget(self.transfer_label)

        panel = self.status_panel
        panel.start_clicked.connect(self.start_or_resume)
        panel.pause_clicked.connect(self.pause)
        panel.stop_clicked.connect(self.stop)
        panel.new_token_clicked.connect(self.enter_new_token)
        panel.review_clicked.connect(self.review_package)
        panel.retry_clicked.connect(self.retry)
        self.history_table.log_requested.connect(self.open_task_log)

    def _build_actions(self) -> None:
        self.profile_choice = QComboBox()
        self.profile_choice.setAccessibleName("Network")
        self.profile_choice.setToolTip("Which network this window shows and takes part in")
        self.profile_choice.setMinimumContentsLength(24)
        self.profile_choice.activated.connect(self._profile_chosen)
        network_label = QLabel("&Network: ")
        network_label.setBuddy(self.profile_choice)

        self.add_network_action = QAction("&Add network…", self)
        self.add_network_action.triggered.connect(self.add_network)
        self.settings_action = QAction("&Settings…", self)
        self.settings_action.setShortcut(QKeySequence.StandardKey.Preferences)
        self.settings_action.triggered.connect(self.open_settings)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.setToolTip("Stop taking part and close fedgui")
        self.quit_action.triggered.connect(self.quit_app)
        self.start_action = QAction(theme.icon("action-start"), "&Start taking part", self)
        self.start_action.triggered.connect(self.start_or_resume)
        self.pause_action = QAction(theme.icon("action-pause"), "Pa&use", self)
        self.pause_action.triggered.connect(self.pause)
        self.stop_action = QAction(theme.icon("action-stop"), "S&top", self)
        self.stop_action.triggered.connect(self.stop)

        toolbar = QToolBar("Network")
        toolbar.setObjectName("network_toolbar")
        toolbar.setMovable(False)
        toolbar.addWidget(network_label)
        toolbar.addWidget(self.profile_choice)
        toolbar.addAction(self.add_network_action)
        toolbar.addSeparator()
        toolbar.addAction(self.settings_action)
        self.addToolBar(toolbar)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.add_network_action)
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        save_log = file_menu.addAction("Save the &log…")
        save_log.triggered.connect(self.log_view.ask_and_save)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        participation = menu.addMenu("&Participation")
        for action in (self.start_action, self.pause_action, self.stop_action):
            participation.addAction(action)
        view_menu = menu.addMenu("&View")
        for number in range(self.tabs.count()):
            action = view_menu.addAction(self.tabs.tabText(number).replace("&", ""))
            action.setShortcut(QKeySequence(f"Ctrl+{number + 1}"))
            action.triggered.connect(lambda _=False, n=number: self.tabs.setCurrentIndex(n))
        find = view_menu.addAction("&Find in the log")
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(self.find_in_log)
        help_menu = menu.addMenu("&Help")
        about = help_menu.addAction("&About fedgui")
        about.triggered.connect(self.show_about)
        # Ctrl+S saves the log wherever focus is (the log view also has it when focused).
        save_shortcut = QAction(self)
        save_shortcut.setShortcut(QKeySequence.StandardKey.Save)
        save_shortcut.triggered.connect(self.log_view.ask_and_save)
        self.addAction(save_shortcut)

    def _connect_tray(self) -> None:
        self.tray.show_window_requested.connect(self.bring_to_front)
        self.tray.start_requested.connect(self.start_or_resume)
        self.tray.pause_requested.connect(self.pause)
        self.tray.quit_requested.connect(self.quit_app)

    def _connect_controller(self) -> None:
        controller = self.controller
        controller.event_arrived.connect(self.on_event)
        controller.profile_changed.connect(self._show_profile)
        controller.token_saved.connect(
            lambda: self.statusBar().showMessage("New token saved. Trying again…", 10_000)
        )
        controller.token_not_saved.connect(self._token_not_saved)

    # --- profiles -----------------------------------------------------------------------------

    def _fill_profile_choice(self) -> None:
        shown = self.controller.profile
        self.profile_choice.blockSignals(True)
        self.profile_choice.clear()
        for profile in self.profiles:
            self.profile_choice.addItem(profile.display_name, profile.id)
        if shown:
            self.profile_choice.setCurrentIndex(max(0, self.profile_choice.findData(shown.id)))
        self.profile_choice.blockSignals(False)

    def _profile_chosen(self, index: int) -> None:
        profile_id = self.profile_choice.itemData(index)
        shown = self.controller.profile
        chosen = next((p for p in self.profiles if p.id == profile_id), None)
        if chosen is None or (shown and chosen.id == shown.id):
            return
        if self.controller.running:
            answer = QMessageBox.question(
                self,
                "Switch network?",
                f"fedgui is taking part in “{shown.display_name if shown else ''}”. "
                f"Stop that and show “{chosen.display_name}”?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                self._fill_profile_choice()
                return
        self.switch_profile(chosen)

    def switch_profile(self, profile: Profile) -> None:
        """Show ``profile``; a running session of the previous profile is stopped in the background."""
        self.preferences_store.last_profile_id = profile.id
        self.log_view.clear()
        self.log_view.submit(
            client_line(
                f"This window shows “{profile.display_name}”. Press Start taking part to join; "
                "what this computer does for the network will appear here."
            )
        )
        self.plots.set_source(self.history, profile.id)
        self.overview.set_source(self.history, profile.id)
        self.history_table.set_source(self.history, profile.id)
        self.resource_meter.reset()
        self.status_panel.set_combiner("")
        self.status_panel.set_extra("")
        self.controller.show_profile(profile)  # profile_changed, then an IDLE state

    def _show_profile(self, profile: Profile) -> None:
        self.profiles = [profile if p.id == profile.id else p for p in self.profiles]
        self.status_panel.set_network(profile.display_name, profile.controller_url)
        self._show_isolation(profile)
        self._fill_profile_choice()
        self.setWindowTitle(f"fedgui — {profile.display_name}")
        self._update_controls()

    def _show_isolation(self, profile: Profile) -> None:
        """What the package can reach, in the status panel (off the UI thread: it starts a process)."""

        def show(text: str) -> None:
            shown = self.controller.profile
            if shown is not None and shown.id == profile.id:
                self.status_panel.set_isolation(text)

        run_in_background(lambda: describe_for_profile(profile), show, owner=self)

    def set_profiles(self, profiles: list[Profile], select_id: str | None = None) -> None:
        self.profiles = list(profiles)
        shown = self.controller.profile
        updated = next((p for p in self.profiles if shown and p.id == shown.id), None)
        if updated:
            self.controller.replace_profile(updated)
        self._fill_profile_choice()
        chosen = next((p for p in self.profiles if p.id == select_id), None)
        if chosen and (shown is None or chosen.id != shown.id):
            self.switch_profile(chosen)
        elif shown is None and self.profiles:
            self.switch_profile(self.profiles[0])

    def add_network(self) -> None:
        known = {p.id for p in self.profiles}
        dialog = open_connection_wizard(self, self.profile_store, self.secrets)
        self._keep(dialog)

        def reload_profiles(_result: int = 0) -> None:
            def done(profiles: list[Profile]) -> None:
                new = [p for p in profiles if p.id not in known]
                self.set_profiles(profiles, new[0].id if new else None)

            run_in_background(self.profile_store.list, on_done=done, owner=self)

        dialog.finished.connect(reload_profiles)
        dialog.open()

    def open_settings(self) -> SettingsDialog | None:
        profile = self.controller.profile
        if profile is None:
            self.add_network()
            return None
        dialog = SettingsDialog(profile, self.profile_store, self.preferences, self)
        dialog.saved.connect(self._settings_saved)
        self._keep(dialog)
        dialog.open()
        return dialog

    def _settings_saved(self, profile: Profile, preferences: AppPreferences) -> None:
        self.preferences = preferences
        self.preferences_store.save_preferences(preferences)
        if self.controller.running:
            self.statusBar().showMessage("Saved. The new settings apply from the next start.", 10_000)
        self.controller.replace_profile(profile)

    # --- participation ------------------------------------------------------------------------

    def start_or_resume(self) -> None:
        was_idle = not self.controller.running and self.controller.state is not SessionState.PAUSED
        if not self.controller.start_or_resume():
            self.add_network()  # nothing to start with yet
            return
        if self.controller.profile is not None:
            self.preferences_store.taking_part_profile_id = self.controller.profile.id
        if was_idle:
            self.log_view.submit(client_line("Starting to take part."))
        else:
            self.log_view.submit(client_line("You resumed taking part."))

    def pause(self) -> None:
        self.log_view.submit(
            client_line("You paused taking part: the current task finishes, then no new work.")
        )
        self.controller.pause()

    def stop(self) -> None:
        self.status_panel.stop_button.setEnabled(False)
        self.log_view.submit(client_line("You stopped taking part."))
        self.preferences_store.taking_part_profile_id = None  # a Stop is not undone by a restart
        self.controller.stop()

    def retry(self) -> None:
        self.controller.retry()

    def enter_new_token(self) -> None:
        token = self.ask_new_token()
        if token:
            self.controller.use_new_token(token)

    def _token_not_saved(self, error: BaseException) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Token not saved",
            f"The token is used for now but could not be saved in the keyring: {error}\n\n"
            "You will be asked again next time.",
            parent=self,
        )
        box.open()

    def ask_new_token(self) -> str | None:
        token, ok = QInputDialog.getText(
            self,
            "Enter a new access token",
            "Paste the access token you received from your network's operator:",
            QLineEdit.EchoMode.Password,
        )
        token = token.strip()
        return token if ok and token else None

    def review_package(self) -> PackageReviewDialog | None:
        review = self.controller.review
        if review is None:
            return None
        profile = self.controller.profile
        dialog = PackageReviewDialog(
            review.package,
            review.previous,
            self,
            last_approved=review.previous_checksum,
            unisolated_agreed=bool(profile and profile.run_unisolated_agreed),
            has_data_folder=bool(profile and profile.data_folder),
        )
        dialog.approved.connect(
            lambda checksum: self.controller.approve(checksum, dialog.permissions, dialog.run_unisolated)
        )
        dialog.rejected_package.connect(lambda _checksum: self.controller.reject())
        self._keep(dialog)
        dialog.open()
        return dialog

    # --- events -------------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """Every event except log lines, on the UI thread, after the controller has seen it."""
        if isinstance(event, StateChanged):
            self._state_changed(event)
        elif isinstance(event, Assigned):
            self.status_panel.set_combiner(event.network.address)
        elif isinstance(event, MetricReported):
            self.plots.add_live(event)
        elif isinstance(event, ResourceUsage):
            self.resource_meter.update_usage(event)
            self.status_panel.set_extra(self.resource_meter.summary())
        elif isinstance(event, TaskStarted):
            what = KIND_WORDS.get(event.kind, event.kind).lower()
            self.plots.start_live(f"{what}, round {event.round_id}" if event.round_id else what, event.kind)
            self.resource_meter.reset()
            self.history_table.reload()
        elif isinstance(event, TaskFinished):
            self._notify(event)
            self.status_panel.set_extra("")
            self.history_table.reload()
            self.plots.reload()
            self.overview.reload()
        elif isinstance(event, TransferProgress):
            self.transfer_label.setText(_transfer_text(event))

    def _state_changed(self, event: StateChanged) -> None:
        state = event.state
        self._notify(event)
        self.status_panel.show_state(state, event.detail, event.error, event.timestamp)
        buttons = button_states(state)
        self.tray.show_state(state, plain_headline(state, event.detail), buttons.start, buttons.pause)
        self.overview.show_state(state, event.detail)
        self._update_controls()
        if state in NOT_RUNNING or state is SessionState.PAUSED:
            self.transfer_label.clear()
        if state is not SessionState.WORKING:
            self.status_panel.set_extra("")  # processor/memory figures belong to a running task

    def _notify(self, event: Event) -> None:
        # While the person is looking at the window, the window itself says it.
        if self.isVisible() and self.isActiveWindow():
            self.tray.state = _state_of(event, self.tray.state)
            return
        self.tray.handle_event(event)

    def _update_controls(self) -> None:
        buttons = button_states(self.controller.state)
        has_profile = self.controller.profile is not None
        self.start_action.setEnabled(buttons.start and has_profile)
        self.start_action.setText(buttons.start_text)
        self.status_panel.start_button.setEnabled(buttons.start and has_profile)
        self.pause_action.setEnabled(buttons.pause)
        self.stop_action.setEnabled(buttons.stop)
        self.settings_action.setEnabled(has_profile)

    # --- other views --------------------------------------------------------------------------

    def open_task_log(self, task: Any) -> LogFileViewer:
        path = self.history_table.log_path_for(task)
        what = KIND_WORDS.get(task.kind, task.kind)
        title = f"Log of {what.lower()}" + (f", round {task.round_id}" if task.round_id else "")
        viewer = LogFileViewer(path, title, self)
        self._keep(viewer)
        viewer.show()
        return viewer

    def find_in_log(self) -> None:
        self.tabs.setCurrentWidget(self.log_view)
        self.log_view.focus_search()

    def show_about(self) -> None:
        from fedgui import __version__

        QMessageBox.about(
            self,
            "About fedgui",
            f"fedgui {__version__}\n\nTakes part in a FEDn federated-learning network. "
            "Your data stays on this computer; only model updates and metrics are sent.",
        )

    def bring_to_front(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def _keep(self, widget: QWidget) -> None:
        """Keep a non-modal dialog alive until it closes."""
        self._open_dialogs.append(widget)
        widget.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        if isinstance(widget, QDialog):
            widget.finished.connect(
                lambda _r, w=widget: self._open_dialogs.remove(w) if w in self._open_dialogs else None
            )

    # --- closing ------------------------------------------------------------------------------

    def closeEvent(self, event) -> None:
        keeps_running = self.controller.running
        if (
            not self.really_quit
            and keeps_running
            and self.preferences.minimize_to_tray
            and self.tray.available
        ):
            event.ignore()
            self.hide()
            if not self.preferences_store.tray_notice_shown:
                self.preferences_store.tray_notice_shown = True
                self.tray.notify(
                    _tray_notice()  # said once: people expect a closed window to stop things
                )
            return
        if not self.really_quit:
            event.ignore()
            if keeps_running:
                self.ask_quit()
            else:
                self.quit_app()
            return
        super().closeEvent(event)

    def ask_quit(self) -> None:
        """No tray to keep working in: closing means quitting, so ask first (without blocking)."""
        if self.quit_question is not None:
            self.quit_question.raise_()
            return
        question = QMessageBox(self)
        question.setIcon(QMessageBox.Icon.Question)
        question.setWindowTitle("Quit fedgui?")
        question.setText("Quit and stop taking part?")
        question.setInformativeText(
            "fedgui cannot keep taking part with its window closed here. If you quit now, it takes "
            "part again the next time it starts."
        )
        quit_button = question.addButton("&Quit", QMessageBox.ButtonRole.AcceptRole)
        keep = question.addButton("&Keep taking part", QMessageBox.ButtonRole.RejectRole)
        question.setDefaultButton(keep)
        self.quit_question = question

        def answered(button) -> None:
            self.quit_question = None
            question.deleteLater()
            if button is quit_button:
                self.quit_app()

        question.buttonClicked.connect(answered)
        question.open()

    def quit_app(self) -> None:
        """Really stop: the session stops on a worker thread, then the app quits."""
        if self.really_quit:
            return
        self.really_quit = True
        self.setEnabled(False)
        self.statusBar().showMessage("Stopping…")
        self.log_view.detach()
        self.preferences_store.sync()

        def finish() -> None:
            self.controller.detach()
            self.tray.hide()
            self.quitting.emit()
            self.close()
            app = QApplication.instance()
            if app is not None:
                app.quit()

        self.controller.stop_then(finish)

    # --- startup measurement ------------------------------------------------------------------

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            QTimer.singleShot(0, self._report_first_shown)

    def _report_first_shown(self) -> None:
        self.first_shown.emit()
        marker = os.environ.get(STARTUP_MARKER_VARIABLE)
        if marker == "-":
            print(f"FIRST_SHOWN {time.time():.6f}", flush=True)
        elif marker:
            with open(marker, "a", encoding="utf-8") as handle:  # benchmark only; tiny write
                handle.write(f"FIRST_SHOWN {time.time():.6f}\n")


def _tray_notice():
    from fedgui.gui.window.tray import Notification

    return Notification(
        "fedgui keeps taking part",
        "The window is closed but fedgui is still working for the network. "
        "To stop, choose Quit in the tray icon's menu.",
        "info",
    )


def _state_of(event: Event, current: SessionState | None) -> SessionState | None:
    return event.state if isinstance(event, StateChanged) else current


def fitting_size(width: int, height: int) -> tuple[int, int]:
    """The wanted size, shrunk to the screen's free area (a 1366×768 screen with a task bar has
    about 1366×720 for the window and its title bar)."""
    screen = QApplication.primaryScreen()
    if screen is None:
        return width, height
    free = screen.availableGeometry()
    title_bar = 40
    return min(width, free.width()), min(height, max(480, free.height() - title_bar))


def _transfer_text(event: TransferProgress) -> str:
    from fedgui.gui.window.resource_meter import format_bytes

    if event.total:
        if event.done >= event.total:
            return ""
        share = 100 * event.done / event.total
        return f"{event.what.capitalize()}: {share:.0f} % of {format_bytes(event.total)}"
    return f"{event.what.capitalize()}: {format_bytes(event.done)}"

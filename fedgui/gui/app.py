"""Start the desktop app: the QApplication, one instance per user, then the connection wizard
(no profile yet) or the main window on the last used profile."""

from __future__ import annotations

import gc
import logging
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from fedgui.gui.common import theme

if TYPE_CHECKING:  # imported when used: the app starts faster without them
    from fedgui.gui.window.main_window import MainWindow
    from fedgui.gui.wizard.wizard import ConnectionWizard

log = logging.getLogger(__name__)


@dataclass
class LaunchOptions:
    start: bool = False  # start taking part right away (used by the login entry)
    minimized: bool = False  # start in the tray, without showing the window


def create_application(argv: list[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    # Fractional scaling (125 %, 150 %) as the OS says, instead of rounding to whole numbers.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("fedgui")
    app.setApplicationDisplayName("fedgui")
    app.setOrganizationName("fedgui")
    app.setDesktopFileName("fedgui")
    app.setWindowIcon(theme.app_icon())
    # Closing the window may leave fedgui working in the tray; quitting is always explicit.
    app.setQuitOnLastWindowClosed(False)
    return app


def tune_runtime_for_ui() -> None:
    """Call once the first window exists.

    ``gc.freeze()`` moves everything allocated so far (Qt bindings, pyqtgraph, numpy, the
    window) out of the collector's reach. A full collection then walks only newer objects:
    during a log flood, full collections on the runner's reader thread (which holds the GIL and
    so stalls the UI) took 10-30 ms before and ~1-3 ms after (tests/bench/ui_latency.py).
    """
    gc.collect()
    gc.freeze()


def run_gui(options: LaunchOptions) -> int:
    from fedgui.core.errors import FedguiError
    from fedgui.core.history.store import HistoryStore
    from fedgui.core.profile import ProfileStore
    from fedgui.core.secrets import SecretStore
    from fedgui.gui.settings.dialog import PreferencesStore
    from fedgui.gui.single_instance import SingleInstance

    app = create_application()
    instance = SingleInstance()
    if not instance.claim():
        print("fedgui is already running; its window was brought to the front.")
        return 0

    store = ProfileStore()
    try:
        history = HistoryStore()
    except FedguiError as error:
        QMessageBox.critical(None, "fedgui cannot start", str(error))
        return 1
    secrets = SecretStore()
    preferences = PreferencesStore()
    profiles = store.list()  # a handful of small files, read once before the window exists
    controller = AppController(app, store, history, secrets, preferences, options)
    instance.show_requested.connect(controller.bring_to_front)
    if profiles:
        controller.open_main_window(profiles)
    else:
        controller.open_first_wizard()
    QTimer.singleShot(0, tune_runtime_for_ui)  # after the first window has been built
    try:
        return app.exec()
    finally:
        instance.release()
        history.close()


class AppController:
    """Which top-level window is open: the first-run wizard or the main window."""

    def __init__(self, app, store, history, secrets, preferences, options: LaunchOptions) -> None:
        self.app = app
        self.store = store
        self.history = history
        self.secrets = secrets
        self.preferences = preferences
        self.options = options
        self.window: MainWindow | None = None
        self.wizard: ConnectionWizard | None = None

    def open_first_wizard(self) -> None:
        from fedgui.gui.threads import run_in_background
        from fedgui.gui.window.main_window import open_connection_wizard

        self.wizard = open_connection_wizard(None, self.store, self.secrets)
        saved: list[tuple[str, bool]] = []  # (profile id, "Start taking part now" ticked)
        self.wizard.profile_saved.connect(
            lambda profile, start_now, *_: saved.append((profile.id, bool(start_now)))
        )

        def finished(_result: int) -> None:
            def loaded(profiles) -> None:
                self.wizard = None
                if profiles:
                    select_id, start_now = saved[-1] if saved else (None, False)
                    self.open_main_window(profiles, select_id=select_id, start=start_now)
                else:
                    self.app.quit()  # the person closed the wizard without connecting

            run_in_background(
                self.store.list, on_done=loaded, on_error=lambda _e: self.app.quit(), owner=None
            )

        self.wizard.finished.connect(finished)
        self.wizard.show()

    def open_main_window(self, profiles, select_id: str | None = None, start: bool = False) -> None:
        """``start``: take part right away (the login entry, or "Start taking part now" in the wizard)."""
        from fedgui.gui.threads import run_in_background
        from fedgui.gui.window.main_window import MainWindow

        known = {p.id for p in profiles}
        current = select_id if select_id in known else self.preferences.last_profile_id
        if current not in known:
            current = profiles[0].id
        self.window = MainWindow(
            profiles,
            profile_store=self.store,
            history=self.history,
            secrets=self.secrets,
            preferences=self.preferences,
            current_profile_id=current,
        )
        if not self.options.minimized:
            self.window.show()
        elif not self.window.tray.available:
            self.window.showMinimized()
        # else: it stays in the tray, whose icon shows the state
        # Taking part when fedgui last closed (not stopped): take part again, with the package
        # approved before; a changed package waits for review, nothing unapproved runs.
        was_taking_part = self.preferences.taking_part_profile_id == current
        if self.options.start or start or was_taking_part:
            QTimer.singleShot(0, self.window.start_or_resume)
        keep_days = max(p.log_retention_days for p in profiles)
        history = self.history
        run_in_background(
            lambda: history.prune(keep_days), on_error=lambda e: log.warning("pruning: %s", e), owner=None
        )

    def bring_to_front(self) -> None:
        if self.window is not None:
            self.window.bring_to_front()
        elif self.wizard is not None:
            self.wizard.show()
            self.wizard.raise_()
            self.wizard.activateWindow()

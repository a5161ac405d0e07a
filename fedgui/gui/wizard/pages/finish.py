"""Page 7: what was set up, and whether to start taking part now and at every login."""

from __future__ import annotations

import importlib.util

from PySide6.QtWidgets import QCheckBox, QVBoxLayout

from fedgui.gui.common.details import DetailsExpander
from fedgui.gui.common.message import MessageBox, Tone
from fedgui.gui.wizard.context import WizardContext
from fedgui.gui.wizard.pages.base import WizardPageBase

AUTOSTART_AVAILABLE = importlib.util.find_spec("fedgui.core.autostart") is not None


def summary_lines(context: WizardContext) -> list[str]:
    """The summary in plain words; addresses, checksums and paths are in :func:`detail_lines`."""
    profile = context.profile
    token = "none needed"
    if context.token:
        token = "kept for this session only" if context.session_only else "kept in the password store"
    files = context.data_file_count
    counted = "" if files is None else f" ({files:,} file{'s' if files != 1 else ''})"
    return [
        f"Network: {profile.display_name}",
        f"Token: {token}",
        f"This computer's name in the network: {profile.client_name}",
        f"Data folder: {profile.data_folder}{counted}",
        "The network's code: approved by you"
        if context.package_approved
        else "The network's code: not approved",
        "Python for the code: ready" if context.environment else "Python for the code: not prepared",
        f"Check on your data: {context.preview_summary}",
    ]


def detail_lines(context: WizardContext) -> list[str]:
    profile, package, environment = context.profile, context.package, context.environment
    lines = [f"Controller: {profile.controller_url}", f"Client id: {profile.client_id}"]
    if package is not None:
        lines.append(f"Compute package checksum (SHA-256): {package.checksum}")
    if environment is not None:
        lines.append(f"Python: {environment.python}")
    return lines


def not_checked_warning(context: WizardContext) -> str:
    """What could not be checked, in yellow on the Finish page; empty when everything was."""
    if context.data_file_count == 0:
        return (
            "Not checked: your data folder has no files, so nobody has seen the network's code read your "
            "data. Put your data in the folder before the first round, or go Back and choose another one."
        )
    return ""


def autostart_supported() -> bool:
    if not AUTOSTART_AVAILABLE:
        return False
    from fedgui.core import autostart

    return autostart.is_supported()


class FinishPage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Ready")
        self.setSubTitle("Check the summary, then press Finish to save this connection.")
        layout = QVBoxLayout(self)
        self.summary = self.paragraph("")
        self.summary.setAccessibleName("Summary")
        layout.addWidget(self.summary)
        self.warning = MessageBox(self)
        self.warning.setVisible(False)
        layout.addWidget(self.warning)
        self.details = DetailsExpander("Details", self)
        layout.addWidget(self.details)
        self.start_now_box = QCheckBox("&Start taking part now", self)
        self.start_now_box.setChecked(True)
        self.start_now_box.setToolTip("You can stop at any time from the main window.")
        layout.addWidget(self.start_now_box)
        self.login_box = QCheckBox("Start fedgui when I &log in", self)
        if not autostart_supported():
            self.login_box.setEnabled(False)
            self.login_box.setToolTip(
                "Not available here: on this system the installer sets up starting at login."
            )
        layout.addWidget(self.login_box)
        self.error = MessageBox(self)
        self.error.setVisible(False)
        layout.addWidget(self.error)
        layout.addStretch(1)

    def initializePage(self) -> None:
        self.summary.setText("\n".join(summary_lines(self.context)))
        self.details.set_lines(detail_lines(self.context))
        warning = not_checked_warning(self.context)
        if warning:
            self.warning.show_text(warning, Tone.WARNING)
        else:
            self.warning.setVisible(False)
        if autostart_supported():
            from fedgui.core import autostart

            # Off until the current setting is known, so a click is never overwritten by it.
            self.login_box.setEnabled(False)
            self.background(autostart.is_enabled, self._login_state_known, lambda _err: None)

    def _login_state_known(self, enabled: bool) -> None:
        self.login_box.setChecked(enabled)
        self.login_box.setEnabled(True)

"""The connection wizard: from "what is this?" to a saved, tested, approved profile."""

from __future__ import annotations

import enum
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMessageBox, QWidget, QWizard

from fedgui.core.execution.environment import EnvironmentBuilder
from fedgui.core.package.cache import PackageCache
from fedgui.core.profile import Profile, ProfileStore
from fedgui.core.secrets import SecretStore
from fedgui.gui.common.message import plain_error
from fedgui.gui.threads import run_in_background
from fedgui.gui.wizard.context import WizardContext, save_profile
from fedgui.gui.wizard.pages.computer import ComputerPage, default_client_name
from fedgui.gui.wizard.pages.controller import ControllerPage
from fedgui.gui.wizard.pages.environment import EnvironmentPage
from fedgui.gui.wizard.pages.finish import FinishPage
from fedgui.gui.wizard.pages.package import PackagePage
from fedgui.gui.wizard.pages.preview import PreviewPage
from fedgui.gui.wizard.pages.welcome import WelcomePage


class PageId(enum.IntEnum):
    WELCOME = 0
    CONTROLLER = 1
    COMPUTER = 2
    PACKAGE = 3
    ENVIRONMENT = 4
    PREVIEW = 5
    FINISH = 6


FIX_LATER_BUTTON = QWizard.WizardButton.CustomButton1


class ConnectionWizard(QWizard):
    """Emits ``profile_saved(profile, start_now)`` once the profile is on disk.

    After ``exec()`` returns Accepted, :attr:`saved_profile` and :attr:`start_now` hold the same.
    "I'll fix it later" saves the profile as not ready (``profile.ready`` False) and closes.
    """

    profile_saved = Signal(object, bool)

    def __init__(
        self,
        profile_store: ProfileStore | None = None,
        secret_store: SecretStore | None = None,
        parent: QWidget | None = None,
        *,
        package_cache: PackageCache | None = None,
        environment_builder: EnvironmentBuilder | None = None,
        example_folder: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect fedgui to a network")
        self.setMinimumSize(820, 640)
        self.context = WizardContext(
            profile_store=profile_store or ProfileStore(),
            secret_store=secret_store or SecretStore(),
            profile=Profile.new("", "", client_name=default_client_name()),
            package_cache=package_cache or PackageCache(),
        )
        self.saved_profile: Profile | None = None
        self.start_now = False
        self.start_at_login = False
        self._saving = False
        self.welcome_page = WelcomePage(example_folder)
        self.controller_page = ControllerPage()
        self.computer_page = ComputerPage()
        self.package_page = PackagePage()
        self.environment_page = EnvironmentPage(environment_builder)
        self.preview_page = PreviewPage()
        self.finish_page = FinishPage()
        pages = {
            PageId.WELCOME: self.welcome_page,
            PageId.CONTROLLER: self.controller_page,
            PageId.COMPUTER: self.computer_page,
            PageId.PACKAGE: self.package_page,
            PageId.ENVIRONMENT: self.environment_page,
            PageId.PREVIEW: self.preview_page,
            PageId.FINISH: self.finish_page,
        }
        for page_id, page in pages.items():
            self.setPage(page_id, page)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.HaveCustomButton1, True)
        self.setButtonText(FIX_LATER_BUTTON, "I'll fix it &later")
        self.button(FIX_LATER_BUTTON).setToolTip(
            "Save this connection as not ready yet; you can finish setting it up later."
        )
        self.button(FIX_LATER_BUTTON).setAccessibleName("I'll fix it later")
        self.customButtonClicked.connect(self._custom_button)
        self.currentIdChanged.connect(self._page_changed)
        self._page_changed(self.startId())

    # -- buttons ------------------------------------------------------------------------------

    def _page_changed(self, page_id: int) -> None:
        self.button(FIX_LATER_BUTTON).setVisible(PageId.CONTROLLER <= page_id < PageId.FINISH)

    def _custom_button(self, which: int) -> None:
        if which in (FIX_LATER_BUTTON, FIX_LATER_BUTTON.value):
            self.fix_later()

    def fix_later(self) -> None:
        """Save what there is as a not-ready profile and close."""
        url = self.controller_page.url_edit.text().strip()
        if not url:
            QMessageBox.information(
                self,
                "Nothing to save yet",
                "Enter the network's address first, so fedgui knows which network to connect to later.",
            )
            self.controller_page.url_edit.setFocus()
            return
        context = self.context
        context.profile.controller_url = url
        if not context.profile.display_name:
            from fedgui.gui.wizard.context import display_name_for

            context.profile.display_name = display_name_for(url)
        self.controller_page.validatePage()  # token and session-only choice
        if self.currentId() == PageId.COMPUTER and self.computer_page.isComplete():
            self.computer_page.validatePage()
        self._save(ready=False, start_now=False)

    # -- finishing ----------------------------------------------------------------------------

    def accept(self) -> None:
        if self.saved_profile is not None:
            super().accept()
            return
        self._save(ready=True, start_now=self.finish_page.start_now_box.isChecked())

    def _save(self, ready: bool, start_now: bool) -> None:
        if self._saving:
            return
        context = self.context
        login_box = self.finish_page.login_box
        # Read before disabling the window: a disabled parent makes every child "disabled".
        set_login = ready and self.currentId() == PageId.FINISH and login_box.isEnabled()
        start_at_login = login_box.isChecked()
        self._saving = True
        self.setEnabled(False)

        def save() -> Profile:
            profile = save_profile(context, ready)
            if set_login:
                from fedgui.core import autostart

                if autostart.is_enabled() != start_at_login:
                    autostart.set_enabled(start_at_login)
            return profile

        def saved(profile: Profile) -> None:
            self._saving = False
            self.setEnabled(True)
            self.saved_profile, self.start_now = profile, start_now
            self.start_at_login = set_login and start_at_login
            self.profile_saved.emit(profile, start_now)
            run_in_background(context.cleanup, owner=None)  # removes the temp folder: disk work
            super(ConnectionWizard, self).accept()

        def failed(error: BaseException) -> None:
            self._saving = False
            self.setEnabled(True)
            text = f"The connection could not be saved. {plain_error(error)}"
            if self.currentId() == PageId.FINISH:
                from fedgui.gui.common.message import Tone

                self.finish_page.error.show_text(text, Tone.ERROR)
            else:
                QMessageBox.warning(self, "Not saved", text)

        run_in_background(save, on_done=saved, on_error=failed, owner=self)

    def reject(self) -> None:
        self.welcome_page.example.cancel()
        self.environment_page.cleanupPage()
        self.preview_page.panel.cancel()
        run_in_background(self.context.cleanup, owner=None)
        super().reject()

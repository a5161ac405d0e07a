"""Page 2: the controller's address and token, typed or imported from client.yaml, then tested."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from fedgui.core.clientconfig import ImportedClientConfig, import_client_config
from fedgui.core.controller.connection_check import CHECKS, ConnectionReport, check_connection
from fedgui.core.errors import FedguiError
from fedgui.core.secrets import SecretBackendStatus
from fedgui.gui.common.checklist import Checklist, CheckState
from fedgui.gui.common.details import DetailsExpander
from fedgui.gui.common.message import MessageBox, Tone, plain_error
from fedgui.gui.wizard.context import display_name_for
from fedgui.gui.wizard.pages.base import WizardPageBase

_STATES = {"passed": CheckState.PASSED, "failed": CheckState.FAILED, "skipped": CheckState.SKIPPED}


def describe_import(imported: ImportedClientConfig, file_name: str = "the file") -> str:
    """What the import brought, in plain words (the keys it ignored go to the details)."""
    found = ["the network's address"]
    if imported.token:
        found.append("an access token")
    if not imported.name_generated:
        found.append(f"this computer's name in the network ({imported.profile.client_name})")
    listed = found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1]
    return f"Read {file_name}: it has {listed}. fedgui now tests the connection."


def import_details(imported: ImportedClientConfig) -> list[str]:
    lines = [f"Controller: {imported.profile.controller_url}", *imported.notes]
    if imported.unknown_keys:
        lines.append("Settings fedgui does not know and ignores: " + ", ".join(imported.unknown_keys) + ".")
    return lines


def downloads_folder() -> Path:
    """Where a client.yaml that came by email or browser is: the Downloads folder, else home."""
    from PySide6.QtCore import QStandardPaths

    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation)
    folder = Path(location) if location else Path.home() / "Downloads"
    return folder if folder.is_dir() else Path.home()


def _what_to_do(report: ConnectionReport) -> str:
    """The checklist already says what failed; below it, say what to do about it."""
    error = report.error
    if error is None:
        return ""
    if isinstance(error, FedguiError) and error.next_step:
        return f"What to do: {error.next_step}"
    return plain_error(error)


class ControllerPage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Connect to your network")
        self.setSubTitle(
            "Enter the network's address and the token your project admin gave you, or import the "
            "configuration file (client.yaml) they sent."
        )
        self.report: ConnectionReport | None = None
        self._tested_inputs: tuple[str, str] | None = None
        self._last_ok_url: str | None = None
        self._testing = False
        self._test_request = 0
        self._keyring: SecretBackendStatus | None = None
        layout = QVBoxLayout(self)

        self.import_button = QPushButton("&Import configuration file…", self)
        self.import_button.setToolTip("A FEDn client.yaml file from your project admin")
        self.import_message = MessageBox(self)
        self.import_message.setVisible(False)
        self.import_details = DetailsExpander("Details of the file", self)
        top = QHBoxLayout()
        top.addWidget(self.import_button)
        top.addStretch(1)
        layout.addLayout(top)
        layout.addWidget(self.import_message)
        layout.addWidget(self.import_details)

        form = QFormLayout()
        self.url_edit = QLineEdit(self)
        self.url_edit.setPlaceholderText(
            "the address your project admin gave you, e.g. https://fedn.example.org"
        )
        self.url_edit.setAccessibleName("Network address")
        self.url_edit.setToolTip("The FEDn controller's address, with its port if it has one (host:port).")
        self.add_field(form, "Network &address:", self.url_edit)
        self.token_edit = QLineEdit(self)
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("leave empty if your network needs no token")
        self.token_edit.setAccessibleName("Access token")
        self.show_token = QCheckBox("S&how", self)
        self.show_token.setAccessibleName("Show the token")
        self.add_field(form, "&Token:", self.token_edit, self.show_token)
        layout.addLayout(form)

        self.keyring_message = MessageBox(self)
        self.keyring_message.setVisible(False)
        self.session_only_box = QCheckBox(
            "Keep the token for this &session only (type it again next time)", self
        )
        self.session_only_box.setVisible(False)
        layout.addWidget(self.keyring_message)
        layout.addWidget(self.session_only_box)

        test_row = QHBoxLayout()
        self.test_button = QPushButton("T&est connection", self)
        self.test_button.setAutoDefault(True)
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        layout.addLayout(test_row)
        self.checklist = Checklist(CHECKS, self)
        layout.addWidget(self.checklist)
        self.result_message = MessageBox(self)
        self.result_message.setVisible(False)
        layout.addWidget(self.result_message)
        self.details = DetailsExpander("Details", self)
        layout.addWidget(self.details)
        layout.addStretch(1)

        self.setTabOrder(self.import_button, self.url_edit)
        self.setTabOrder(self.url_edit, self.token_edit)
        self.setTabOrder(self.token_edit, self.show_token)
        self.setTabOrder(self.show_token, self.session_only_box)
        self.setTabOrder(self.session_only_box, self.test_button)

        self.import_button.clicked.connect(self.choose_config_file)
        self.show_token.toggled.connect(self._toggle_token_visible)
        self.test_button.clicked.connect(self.test_connection)
        self.url_edit.textChanged.connect(self._inputs_changed)
        self.url_edit.returnPressed.connect(self._enter_pressed)
        self.token_edit.returnPressed.connect(self._enter_pressed)
        self.token_edit.textChanged.connect(self._inputs_changed)
        self.session_only_box.toggled.connect(lambda _on: self.completeChanged.emit())

    # -- page life ----------------------------------------------------------------------------

    def initializePage(self) -> None:
        if self._keyring is None:
            store = self.context.secret_store
            self.background(store.status, self._show_keyring_status, lambda _err: None)

    def isComplete(self) -> bool:
        if self._testing or self.report is None or not self.report.ok:
            return False
        if self._tested_inputs != self._inputs():
            return False
        return not (self.needs_session_only() and not self.session_only_box.isChecked())

    def validatePage(self) -> bool:
        context = self.context
        context.token = self.token_edit.text().strip() or None
        context.session_only = self.session_only_box.isChecked()
        return True

    def needs_session_only(self) -> bool:
        return bool(self.token_edit.text().strip()) and self._keyring is not None and not self._keyring.usable

    # -- keyring ------------------------------------------------------------------------------

    def _show_keyring_status(self, status: SecretBackendStatus) -> None:
        self._keyring = status
        if status.usable:
            self.keyring_message.show_text(status.message, Tone.INFO)
            self.session_only_box.setVisible(True)
            self.session_only_box.setChecked(False)
        else:
            self.keyring_message.show_text(status.message, Tone.WARNING)
            self.session_only_box.setVisible(True)
            self.session_only_box.setChecked(True)
        self.completeChanged.emit()

    # -- import -------------------------------------------------------------------------------

    def choose_config_file(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(
            self,
            "Import a FEDn client configuration",
            str(downloads_folder()),
            "Client configuration (*.yaml *.yml);;All files (*)",
        )
        if name:
            self.import_config(Path(name))

    def import_config(self, path: Path) -> None:
        self._forget_results()
        self.import_details.set_lines([])
        self.import_message.show_text(f"Reading {path.name}…", Tone.BUSY)
        self.background(
            lambda: import_client_config(path), lambda i: self._imported(i, path), self._import_failed
        )

    def _imported(self, imported: ImportedClientConfig, path: Path) -> None:
        context = self.context
        old = context.profile
        profile = imported.profile
        if imported.name_generated:
            profile.client_name = old.client_name  # the file does not name this computer: keep ours
        context.profile = profile
        self.url_edit.setText(profile.controller_url)
        self.token_edit.setText(imported.token or "")
        self.import_message.show_text(describe_import(imported, path.name), Tone.OK)
        self.import_details.set_lines(import_details(imported))
        # The file is what the admin sent: test it right away instead of waiting for a click.
        self.test_connection()

    def _forget_results(self) -> None:
        """Old results belong to other inputs: clear them so they cannot be mistaken for new ones."""
        self.report = None
        self._tested_inputs = None
        self.checklist.reset()
        self.result_message.setVisible(False)
        self.details.set_lines([])
        self.completeChanged.emit()

    def _import_failed(self, error: BaseException) -> None:
        self.import_message.show_text(plain_error(error), Tone.ERROR)

    # -- test ---------------------------------------------------------------------------------

    def _inputs(self) -> tuple[str, str]:
        return self.url_edit.text().strip(), self.token_edit.text().strip()

    def _inputs_changed(self) -> None:
        if self.report is not None and self._tested_inputs != self._inputs():
            self.result_message.show_text(
                "You changed the address or token: test the connection again.", Tone.INFO
            )
        self.completeChanged.emit()

    def _enter_pressed(self) -> None:
        # Enter in a field means "test it" until the test passed; then the wizard's Next takes it.
        if not self.isComplete() and not self._testing:
            self.test_connection()

    def _toggle_token_visible(self, visible: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if visible else QLineEdit.EchoMode.Password
        self.token_edit.setEchoMode(mode)

    def test_connection(self) -> None:
        url, token = self._inputs()
        if not url:
            self.result_message.show_text("Enter the network's address first.", Tone.WARNING)
            self.url_edit.setFocus()
            return
        profile = self.context.profile
        if profile.controller_url != url:
            profile.controller_url = url
            if not profile.display_name or profile.display_name.startswith("FEDn at "):
                profile.display_name = display_name_for(url)
        verify = profile.tls_verify_argument
        client_id, name, preferred = profile.client_id, profile.client_name, profile.preferred_combiner
        self._testing = True
        self.test_button.setEnabled(False)
        self.checklist.reset()
        for key, _question in CHECKS:
            self.checklist.set_state(key, CheckState.RUNNING)
        self.details.set_lines([])
        self.result_message.show_text("Talking to the network…", Tone.BUSY)
        self.completeChanged.emit()
        inputs = (url, token)
        self._test_request += 1
        request = self._test_request
        self.background(
            lambda: check_connection(url, token or None, client_id, name, preferred, verify),
            lambda report: self._tested(request, inputs, report),
            lambda error: self._test_crashed(request, error),
        )

    def _tested(self, request: int, inputs: tuple[str, str], report: ConnectionReport) -> None:
        if request != self._test_request:
            return  # an older test, for inputs replaced since (a second import)
        self._testing = False
        self.test_button.setEnabled(True)
        self.report = report
        self._tested_inputs = inputs
        for key, (state, detail) in report.results.items():
            self.checklist.set_state(key, _STATES[state], detail)
        self.details.set_lines(report.details)
        context = self.context
        context.connection_tested = report.ok
        if report.ok and self._last_ok_url not in (None, inputs[0]):
            context.forget_package()
        if report.ok:
            self._last_ok_url = inputs[0]
            assert report.assignment is not None
            context.controller_checksum = report.package_checksum
            if report.assignment.helper_type:
                context.profile.helper_type = report.assignment.helper_type
            self.result_message.show_text("The connection works. Press Next to continue.", Tone.OK)
        else:
            self.result_message.show_text(_what_to_do(report), Tone.ERROR)
        self.completeChanged.emit()

    def _test_crashed(self, request: int, error: BaseException) -> None:
        if request != self._test_request:
            return
        self._testing = False
        self.test_button.setEnabled(True)
        self.checklist.reset()
        self.result_message.show_text(plain_error(error), Tone.ERROR)
        self.details.set_lines([f"{type(error).__name__}: {error}"])
        self.completeChanged.emit()

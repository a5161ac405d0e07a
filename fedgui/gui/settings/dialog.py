"""Settings of one network connection (profile), plus the two app-wide choices (start at login,
keep running in the tray). Saving changes only the dialog's own fields of the saved profile,
through ProfileStore.update on a worker thread, so an approval the session saved while the dialog
was open stays."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSystemTrayIcon,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fedgui.core import autostart
from fedgui.core.download_limit import DEFAULT_LIMIT_MB
from fedgui.core.execution.resource_limits import MANAGED_VARIABLES
from fedgui.core.profile import Profile, ProfileStore
from fedgui.gui.threads import run_in_background

GPU_CHOICES = (
    ("Let the network's code decide", "auto"),
    ("Do not use graphics cards", "none"),
    ("Graphics card 0", "0"),
    ("Graphics card 1", "1"),
    ("Graphics card 2", "2"),
    ("Graphics card 3", "3"),
)


@dataclass
class AppPreferences:
    """Choices about this computer rather than one network."""

    start_at_login: bool = False
    minimize_to_tray: bool = True


class SettingsDialog(QDialog):
    """Edit a copy of the profile; Save writes it and emits :attr:`saved` with the new profile."""

    saved = Signal(object, object)  # Profile, AppPreferences
    failed = Signal(str)

    def __init__(
        self,
        profile: Profile,
        store: ProfileStore,
        preferences: AppPreferences,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Settings: {profile.display_name}")
        self.profile = copy.deepcopy(profile)
        self.store = store
        self.preferences = AppPreferences(**vars(preferences))

        self.data_folder = QLineEdit(str(profile.data_folder or ""))
        self.data_folder.setAccessibleName("Data folder")
        self.interpreter = QLineEdit(profile.base_python or "")
        self.interpreter.setPlaceholderText("Found automatically")
        self.interpreter.setAccessibleName("Python interpreter")
        self.threads = QSpinBox()
        self.threads.setRange(0, 512)
        self.threads.setSpecialValueText("No limit")
        self.threads.setValue(profile.cpu_thread_limit or 0)
        self.threads.setAccessibleName("Processor threads the network's code may use")
        self.gpu = QComboBox()
        self.gpu.setAccessibleName("Graphics card")
        for label, value in GPU_CHOICES:
            self.gpu.addItem(label, value)
        index = self.gpu.findData(profile.gpu)
        if index < 0:
            self.gpu.addItem(f"Graphics card {profile.gpu}", profile.gpu)
            index = self.gpu.count() - 1
        self.gpu.setCurrentIndex(index)
        self.step_limit = QSpinBox()
        self.step_limit.setRange(0, 7 * 24 * 60)
        self.step_limit.setSuffix(" minutes")
        self.step_limit.setSpecialValueText("As long as the network waits for a round")
        self.step_limit.setValue(profile.step_time_limit_minutes or 0)
        self.step_limit.setAccessibleName("Time limit for one training or validation step")
        self.step_limit.setToolTip(
            "A step still running after this is stopped and reported to the network as failed. "
            "By default: the round time limit the network sends with each training task."
        )
        self.download_limit = QSpinBox()
        self.download_limit.setRange(1, 1_000_000)
        self.download_limit.setSuffix(" MB")
        self.download_limit.setValue(profile.download_limit_mb or DEFAULT_LIMIT_MB)
        self.download_limit.setAccessibleName("Largest download")
        self.download_limit.setToolTip(
            "fedgui stops and deletes a compute package or model download that is larger than this."
        )
        self.tls_verify = QCheckBox("&Check the network's security certificate (recommended)")
        self.tls_verify.setChecked(profile.tls_verify)
        self.require_tls = QCheckBox("Re&quire a secure connection (never send the token unencrypted)")
        self.require_tls.setChecked(profile.require_tls)
        self.ca_bundle = QLineEdit(str(profile.ca_bundle or ""))
        self.ca_bundle.setPlaceholderText("The system's certificates")
        self.ca_bundle.setAccessibleName("Certificate file")
        self.retention = QSpinBox()
        self.retention.setRange(1, 3650)
        self.retention.setSuffix(" days")
        self.retention.setValue(profile.log_retention_days)
        self.retention.setAccessibleName("Keep task logs for")
        self.start_at_login = QCheckBox("Start fedgui when I &log in")
        self.start_at_login.setChecked(preferences.start_at_login)
        self.start_at_login.setEnabled(autostart.is_supported())
        self.minimize_to_tray = QCheckBox("&Keep taking part in the tray when the window is closed")
        self.minimize_to_tray.setChecked(preferences.minimize_to_tray)
        self.tray_note = QLabel(NO_TRAY_NOTE)
        self.tray_note.setWordWrap(True)
        if not QSystemTrayIcon.isSystemTrayAvailable():
            # Say what really happens here instead of promising a tray that does not exist.
            self.minimize_to_tray.setEnabled(False)
            self.minimize_to_tray.setChecked(False)
        self.tray_note.setVisible(not self.minimize_to_tray.isEnabled())

        self.env_table = QTableWidget(0, 2)
        self.env_table.setHorizontalHeaderLabels(["Name", "Value"])
        self.env_table.setAccessibleName("Extra environment variables")
        self.env_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.env_table.verticalHeader().hide()
        self.env_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for name, value in profile.extra_env.items():
            if name not in MANAGED_VARIABLES:
                self.add_variable(name, value)
        add_button = QPushButton("&Add variable")
        add_button.clicked.connect(lambda: self.add_variable("", "", edit=True))
        remove_button = QPushButton("&Remove variable")
        remove_button.clicked.connect(self.remove_selected_variable)

        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.hide()

        data_box = QGroupBox("Your data and the code that uses it")
        data_form = QFormLayout(data_box)
        data_form.addRow(
            self._labelled("&Data folder:", self.data_folder), self._with_browse(self.data_folder, True)
        )
        data_form.addRow(
            self._labelled("&Python interpreter:", self.interpreter),
            self._with_browse(self.interpreter, False),
        )
        data_form.addRow(self._labelled("Processor &threads:", self.threads), self.threads)
        data_form.addRow(self._labelled("&Graphics card:", self.gpu), self.gpu)
        data_form.addRow(self._labelled("Time li&mit for one step:", self.step_limit), self.step_limit)
        env_buttons = QHBoxLayout()
        env_buttons.addWidget(add_button)
        env_buttons.addWidget(remove_button)
        env_buttons.addStretch(1)
        env_box = QVBoxLayout()
        env_box.addWidget(self.env_table)
        env_box.addLayout(env_buttons)
        env_label = QLabel("&Extra settings for the code\n(environment variables):")
        env_label.setBuddy(self.env_table)
        data_form.addRow(env_label, env_box)

        network_box = QGroupBox("Connection")
        network_form = QFormLayout(network_box)
        network_form.addRow(self.tls_verify)
        network_form.addRow(self.require_tls)
        network_form.addRow(self._labelled("Largest do&wnload:", self.download_limit), self.download_limit)
        network_form.addRow(
            self._labelled("&Certificate file:", self.ca_bundle), self._with_browse(self.ca_bundle, False)
        )
        network_form.addRow(self._labelled("Keep task &logs for:", self.retention), self.retention)

        app_box = QGroupBox("This computer")
        app_layout = QVBoxLayout(app_box)
        app_layout.addWidget(self.start_at_login)
        app_layout.addWidget(self.minimize_to_tray)
        app_layout.addWidget(self.tray_note)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)

        layout = QVBoxLayout(self)
        layout.addWidget(data_box)
        layout.addWidget(network_box)
        layout.addWidget(app_box)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(640, self.sizeHint().height())

    # --- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _labelled(text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(buddy)
        return label

    def _with_browse(self, field: QLineEdit, folder: bool) -> QWidget:
        button = QPushButton("Browse…")
        button.setAccessibleName(f"Browse for {field.accessibleName().lower()}")
        button.clicked.connect(lambda: self._browse(field, folder))
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(field, 1)
        layout.addWidget(button)
        return row

    def _browse(self, field: QLineEdit, folder: bool) -> None:
        if folder:
            chosen = QFileDialog.getExistingDirectory(self, "Choose the folder", field.text())
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, "Choose the file", field.text())
        if chosen:
            field.setText(chosen)

    def add_variable(self, name: str, value: str, edit: bool = False) -> None:
        row = self.env_table.rowCount()
        self.env_table.insertRow(row)
        name_item = QTableWidgetItem(name)
        self.env_table.setItem(row, 0, name_item)
        self.env_table.setItem(row, 1, QTableWidgetItem(value))
        if edit:
            self.env_table.setCurrentCell(row, 0)
            self.env_table.editItem(name_item)

    def remove_selected_variable(self) -> None:
        rows = sorted({index.row() for index in self.env_table.selectedIndexes()}, reverse=True)
        if not rows and self.env_table.currentRow() >= 0:
            rows = [self.env_table.currentRow()]
        for row in rows:
            self.env_table.removeRow(row)

    def variables(self) -> dict[str, str]:
        env = {}
        for row in range(self.env_table.rowCount()):
            name_item, value_item = self.env_table.item(row, 0), self.env_table.item(row, 1)
            name = name_item.text().strip() if name_item else ""
            if name:
                env[name] = value_item.text() if value_item else ""
        return env

    # --- saving -------------------------------------------------------------------------------

    def chosen_data_folder(self) -> Path | None:
        folder = self.data_folder.text().strip()
        return Path(folder).expanduser() if folder else None

    def edits(self) -> Callable[[Profile], None]:
        """The dialog's values as a change to the saved profile, read now on the UI thread
        (raises ValueError with a plain message)."""
        variables = self.variables()
        for name in variables:
            if not name.replace("_", "").isalnum() or name[0].isdigit():
                raise ValueError(
                    f"“{name}” cannot be the name of an environment variable. "
                    "Use letters, digits and _ only, not starting with a digit."
                )
        data_folder = self.chosen_data_folder()
        base_python = self.interpreter.text().strip() or None
        cpu_thread_limit = self.threads.value() or None
        gpu = self.gpu.currentData()
        step_time_limit_minutes = self.step_limit.value() or None
        tls_verify = self.tls_verify.isChecked()
        require_tls = self.require_tls.isChecked()
        limit = self.download_limit.value()
        download_limit_mb = None if limit == DEFAULT_LIMIT_MB else limit
        bundle = self.ca_bundle.text().strip()
        ca_bundle = Path(bundle).expanduser() if bundle else None
        retention = self.retention.value()
        # Only the choices are stored; the runner turns them into variables (resource_limits).
        extra_env = {k: v for k, v in variables.items() if k not in MANAGED_VARIABLES}

        def apply(profile: Profile) -> None:
            profile.data_folder = data_folder
            profile.base_python = base_python
            profile.cpu_thread_limit = cpu_thread_limit
            profile.gpu = gpu
            profile.step_time_limit_minutes = step_time_limit_minutes
            profile.tls_verify = tls_verify
            profile.require_tls = require_tls
            profile.download_limit_mb = download_limit_mb
            profile.ca_bundle = ca_bundle
            profile.log_retention_days = retention
            profile.extra_env = dict(extra_env)

        return apply

    def edited_preferences(self) -> AppPreferences:
        return AppPreferences(
            start_at_login=self.start_at_login.isChecked(), minimize_to_tray=self.minimize_to_tray.isChecked()
        )

    def save(self) -> None:
        try:
            apply = self.edits()
        except ValueError as error:
            self._show_problem(str(error))
            return
        preferences = self.edited_preferences()
        store, profile_id, data_folder = self.store, self.profile.id, self.chosen_data_folder()
        login_changed = preferences.start_at_login != self.preferences.start_at_login

        def write() -> tuple[Profile, AppPreferences]:
            # The data folder may be a network share that takes a while to answer.
            if data_folder is not None and not data_folder.is_dir():
                raise ValueError(f"The data folder {data_folder} does not exist. Choose an existing folder.")
            # Re-reads the saved profile and changes only this dialog's fields: an approval the
            # session saved while the dialog was open stays.
            profile = store.update(profile_id, apply)
            if login_changed and autostart.is_supported():
                autostart.set_enabled(preferences.start_at_login)
            return profile, preferences

        self.save_button.setEnabled(False)
        run_in_background(write, on_done=self._saved, on_error=self._save_failed, owner=self)

    def _saved(self, result: tuple[Profile, AppPreferences]) -> None:
        profile, preferences = result
        self.profile = profile
        self.preferences = preferences
        self.saved.emit(profile, preferences)
        self.accept()

    def _save_failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        self._show_problem(f"The settings were not saved. {error}")
        self.failed.emit(str(error))

    def _show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()


NO_TRAY_NOTE = (
    "This desktop has no system tray, so fedgui cannot keep taking part with its window closed: "
    "closing the window asks whether to quit and stop taking part. fedgui takes part again the "
    "next time it starts."
)


class PreferencesStore:
    """App-wide choices and small UI memory (last profile, whether the tray notice was shown),
    in an INI file in fedgui's config folder. QSettings caches in memory and writes lazily."""

    def __init__(self, path: Path | None = None) -> None:
        from PySide6.QtCore import QSettings

        from fedgui.core import paths

        self.path = Path(path or paths.config_dir() / "gui.ini")
        self._settings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def _bool(self, key: str, default: bool) -> bool:
        value = self._settings.value(key, default)
        return value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")

    def preferences(self) -> AppPreferences:
        return AppPreferences(
            start_at_login=autostart.is_supported() and autostart.is_enabled(),
            minimize_to_tray=self._bool("minimize_to_tray", True),
        )

    def save_preferences(self, preferences: AppPreferences) -> None:
        self._settings.setValue("minimize_to_tray", preferences.minimize_to_tray)

    @property
    def last_profile_id(self) -> str | None:
        value = self._settings.value("last_profile_id")
        return str(value) if value else None

    @last_profile_id.setter
    def last_profile_id(self, profile_id: str | None) -> None:
        self._settings.setValue("last_profile_id", profile_id or "")

    @property
    def taking_part_profile_id(self) -> str | None:
        """The profile that was taking part when fedgui last closed (None after a Stop): it
        resumes after a restart, with the package approved before only."""
        value = self._settings.value("taking_part_profile_id")
        return str(value) if value else None

    @taking_part_profile_id.setter
    def taking_part_profile_id(self, profile_id: str | None) -> None:
        self._settings.setValue("taking_part_profile_id", profile_id or "")

    @property
    def tray_notice_shown(self) -> bool:
        return self._bool("tray_notice_shown", False)

    @tray_notice_shown.setter
    def tray_notice_shown(self, shown: bool) -> None:
        self._settings.setValue("tray_notice_shown", shown)

    def sync(self) -> None:
        self._settings.sync()

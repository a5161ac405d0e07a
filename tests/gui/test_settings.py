"""Settings dialog: edits are saved through ProfileStore; resource limits are stored as choices."""

from __future__ import annotations

import pytest

from fedgui.core.execution.resource_limits import entry_point_variables
from fedgui.gui.settings.dialog import AppPreferences, SettingsDialog


@pytest.fixture
def autostart_home(tmp_path, monkeypatch):
    config = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config


@pytest.fixture
def dialog(qtbot, profiles, profile_store, autostart_home):
    profile = profiles[0]
    profile.extra_env = {"MY_SETTING": "1", "OMP_NUM_THREADS": "8"}
    profile.cpu_thread_limit = 8
    profile_store.save(profile)
    widget = SettingsDialog(profile, profile_store, AppPreferences())
    qtbot.addWidget(widget)
    return widget


def test_managed_variables_are_not_in_the_table(dialog):
    assert dialog.variables() == {"MY_SETTING": "1"}
    assert dialog.threads.value() == 8


def test_save_writes_the_profile(qtbot, dialog, profile_store, tmp_path):
    new_data = tmp_path / "other-data"
    new_data.mkdir()
    dialog.data_folder.setText(str(new_data))
    dialog.interpreter.setText("/usr/bin/python3")
    dialog.threads.setValue(4)
    dialog.gpu.setCurrentIndex(dialog.gpu.findData("none"))
    dialog.tls_verify.setChecked(False)
    dialog.ca_bundle.setText(str(tmp_path / "ca.pem"))
    dialog.retention.setValue(90)
    dialog.add_variable("DATASET", "site-a")
    with qtbot.waitSignal(dialog.saved, timeout=5000) as saved:
        dialog.save()
    stored = profile_store.get(dialog.profile.id)
    assert stored.data_folder == new_data
    assert stored.base_python == "/usr/bin/python3"
    assert stored.cpu_thread_limit == 4 and stored.gpu == "none"
    assert stored.tls_verify is False and stored.ca_bundle == tmp_path / "ca.pem"
    assert stored.log_retention_days == 90
    # Only the choices are stored; the variables are derived when an entry point starts.
    assert stored.extra_env == {"MY_SETTING": "1", "DATASET": "site-a"}
    assert saved.args[0].id == stored.id


def test_no_limit_removes_the_variables(qtbot, dialog, profile_store):
    dialog.threads.setValue(0)
    assert dialog.threads.text() == "No limit"
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.save()
    stored = profile_store.get(dialog.profile.id)
    assert stored.extra_env == {"MY_SETTING": "1"} and stored.cpu_thread_limit is None


def test_bad_variable_name_is_explained(qtbot, dialog):
    dialog.add_variable("1 bad name", "x")
    dialog.save()
    assert dialog.problem.isVisibleTo(dialog)
    assert "cannot be the name" in dialog.problem.text()


def test_missing_data_folder_is_refused(qtbot, dialog, tmp_path, profile_store):
    dialog.data_folder.setText(str(tmp_path / "nope"))
    with qtbot.waitSignal(dialog.failed, timeout=5000):
        dialog.save()
    assert "does not exist" in dialog.problem.text()
    assert dialog.save_button.isEnabled()


def test_start_at_login_writes_and_removes_the_autostart_entry(qtbot, dialog, autostart_home):
    entry = autostart_home / "autostart" / "fedgui.desktop"
    dialog.start_at_login.setChecked(True)
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.save()
    text = entry.read_text()
    assert "Exec=" in text and "gui --start --minimized" in text
    again = SettingsDialog(dialog.profile, dialog.store, AppPreferences(start_at_login=True))
    qtbot.addWidget(again)
    again.start_at_login.setChecked(False)
    with qtbot.waitSignal(again.saved, timeout=5000):
        again.save()
    assert not entry.exists()


def test_resource_limits():
    assert entry_point_variables({"A": "1", "CUDA_VISIBLE_DEVICES": "3"}, None, "auto") == {"A": "1"}
    assert entry_point_variables({}, 2, "1") == {
        "OMP_NUM_THREADS": "2",
        "MKL_NUM_THREADS": "2",
        "OPENBLAS_NUM_THREADS": "2",
        "CUDA_VISIBLE_DEVICES": "1",
    }
    assert entry_point_variables({"CUDA_VISIBLE_DEVICES": "0"}, None, "none") == {
        "CUDA_VISIBLE_DEVICES": "-1"
    }


def test_window_settings_action_saves_and_keeps_preferences(qtbot, window, profile_store):
    dialog = window.open_settings()
    dialog.minimize_to_tray.setChecked(False)
    dialog.retention.setValue(7)
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.save()
    assert window.preferences.minimize_to_tray is False
    assert window.preferences_store.preferences().minimize_to_tray is False
    assert profile_store.get(window.controller.profile.id).log_retention_days == 7
    assert window.controller.profile.log_retention_days == 7

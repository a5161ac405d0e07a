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
def dialog(qtbot, profiles, profile_store, autostart_home, synchronous_threads):
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
    dialog.require_tls.setChecked(True)
    dialog.download_limit.setValue(500)
    dialog.ca_bundle.setText(str(tmp_path / "ca.pem"))
    dialog.retention.setValue(90)
    assert dialog.step_limit.text() == "As long as the network waits for a round"
    dialog.step_limit.setValue(45)
    dialog.add_variable("DATASET", "site-a")
    saved = []
    dialog.saved.connect(lambda profile, _preferences: saved.append(profile))
    dialog.save()  # synchronous_threads: written when save() returns
    stored = profile_store.get(dialog.profile.id)
    assert stored.data_folder == new_data
    assert stored.base_python == "/usr/bin/python3"
    assert stored.cpu_thread_limit == 4 and stored.gpu == "none"
    assert stored.tls_verify is False and stored.ca_bundle == tmp_path / "ca.pem"
    assert stored.log_retention_days == 90
    assert stored.step_time_limit_minutes == 45
    assert stored.require_tls is True
    assert stored.download_limit_mb == 500
    # Only the choices are stored; the variables are derived when an entry point starts.
    assert stored.extra_env == {"MY_SETTING": "1", "DATASET": "site-a"}
    assert [p.id for p in saved] == [stored.id]
    assert dialog.result() == dialog.DialogCode.Accepted


def test_no_limit_removes_the_variables(qtbot, dialog, profile_store):
    dialog.threads.setValue(0)
    assert dialog.threads.text() == "No limit"
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
    dialog.save()
    assert "does not exist" in dialog.problem.text()
    assert dialog.save_button.isEnabled()


def test_start_at_login_writes_and_removes_the_autostart_entry(qtbot, dialog, autostart_home):
    entry = autostart_home / "autostart" / "fedgui.desktop"
    dialog.start_at_login.setChecked(True)
    dialog.save()
    text = entry.read_text()
    assert "Exec=" in text and "gui --start --minimized" in text
    again = SettingsDialog(dialog.profile, dialog.store, AppPreferences(start_at_login=True))
    qtbot.addWidget(again)
    again.start_at_login.setChecked(False)
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


def test_saving_settings_keeps_an_approval_made_while_the_dialog_was_open(
    qtbot, window, profile_store, history
):
    """A real Session saves an approval (ProfileStore.update, on its own thread) while the
    settings dialog is open; saving the dialog keeps that approval in the real profile file and
    in the window's copy."""
    import threading

    from fedgui.core.session.engine import Session

    shown = window.controller.profile
    checksum = "ab" * 32
    assert checksum not in shown.approved_checksums
    dialog = window.open_settings()
    session = Session(
        shown, lambda: None, bus=window.controller.bus, history=history, profile_store=profile_store
    )
    # What the session thread runs when the person approves (started here without a FEDn
    # network to connect to, so the method is called on a thread of its own).
    saver = threading.Thread(target=session._remember_approval, args=(checksum,))
    saver.start()
    saver.join()
    qtbot.waitUntil(lambda: profile_store.get(shown.id).last_approved_checksum == checksum)
    qtbot.waitUntil(lambda: window.controller.profile.last_approved_checksum == checksum)

    dialog.retention.setValue(7)
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.save()
    stored = profile_store.get(shown.id)
    assert stored.log_retention_days == 7
    assert checksum in stored.approved_checksums and stored.last_approved_checksum == checksum
    assert window.controller.profile.log_retention_days == 7
    assert window.controller.profile.last_approved_checksum == checksum

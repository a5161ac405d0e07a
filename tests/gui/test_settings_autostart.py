"""fedgui.core.autostart: the XDG autostart entry."""

from __future__ import annotations

from fedgui.core import autostart


def test_enable_disable(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert not autostart.is_enabled()
    path = autostart.enable(["/opt/fedgui/fedgui", "gui", "--start"])
    assert path == tmp_path / "autostart" / "fedgui.desktop"
    text = path.read_text()
    assert "Exec=/opt/fedgui/fedgui gui --start\n" in text and text.startswith("[Desktop Entry]\n")
    assert autostart.is_enabled()
    assert autostart.disable() is True
    assert autostart.disable() is False
    assert not autostart.is_enabled()


def test_exec_quoting():
    entry = autostart.desktop_entry(["/home/a b/python", "-m", "fedgui", "100%"])
    assert 'Exec="/home/a b/python" -m fedgui 100%%\n' in entry
    assert autostart.quote_exec_argument('say "hi"') == '"say \\"hi\\""'


def test_default_command_runs_this_python():
    import sys

    command = autostart.default_command()
    assert command[0] == sys.executable and command[-2:] == ["--start", "--minimized"]

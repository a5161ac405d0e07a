"""Single instance per user, with two real processes: the second launch of `fedgui gui` asks
the first to show its window and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

FIRST_INSTANCE = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QTimer
    from fedgui.gui.app import create_application
    from fedgui.gui.single_instance import SingleInstance

    app = create_application()
    instance = SingleInstance()
    assert instance.claim(), "first instance could not claim"
    print("READY", flush=True)
    instance.show_requested.connect(lambda: (print("SHOW", flush=True), app.quit()))
    QTimer.singleShot(20000, app.quit)
    app.exec()
    """
)


def _env(home: Path) -> dict[str, str]:
    return dict(os.environ, FEDGUI_HOME=str(home), QT_QPA_PLATFORM="offscreen")


def test_second_launch_shows_the_first_and_exits(tmp_path):
    home = tmp_path / "home"
    first = subprocess.Popen(
        [sys.executable, "-c", FIRST_INSTANCE], env=_env(home), stdout=subprocess.PIPE, text=True
    )
    try:
        assert first.stdout.readline().strip() == "READY"
        second = subprocess.run(
            [sys.executable, "-m", "fedgui", "gui"],
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout
        assert first.stdout.readline().strip() == "SHOW"
        assert first.wait(timeout=20) == 0
    finally:
        first.kill()


def test_other_home_is_another_instance(tmp_path, qtbot):
    from fedgui.gui.single_instance import SingleInstance, instance_name

    first = SingleInstance(name=instance_name() + "-test")
    assert first.claim()
    assert not SingleInstance(name=first.name).claim()
    first.release()
    again = SingleInstance(name=first.name)
    assert again.claim()  # a released (or crashed) instance does not block the next one
    again.release()

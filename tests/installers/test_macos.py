"""macOS installer pieces that can be checked on any machine: the shell scripts parse, the plists
are valid property lists with the right keys, the launcher and start-at-login work against a fake
bundle whose Python is this test's interpreter, and icons.py makes a complete iconset.
The .app and .dmg themselves are built on a Mac by installers/macos/build-app.sh."""

from __future__ import annotations

import os
import plistlib
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from fedgui import __version__
from tests.installers.conftest import REPO

pytestmark = pytest.mark.installer

MACOS = REPO / "installers/macos"
SCRIPTS = ("build-app.sh", "launcher.sh", "start-at-login")


@pytest.mark.parametrize("script", SCRIPTS)
def test_shell_script_parses(script: str) -> None:
    result = subprocess.run(["bash", "-n", str(MACOS / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert os.access(MACOS / script, os.X_OK)


def test_info_plist() -> None:
    text = (MACOS / "Info.plist.in").read_text().replace("@VERSION@", "1.2.3").replace("@MIN_MACOS@", "13.0")
    info = plistlib.loads(text.encode())
    assert info["CFBundleExecutable"] == "fedgui"
    assert info["CFBundleIdentifier"] == "org.fedgui.fedgui"
    assert info["CFBundlePackageType"] == "APPL"
    assert info["CFBundleIconFile"] == "fedgui.icns"
    assert info["CFBundleShortVersionString"] == "1.2.3"
    assert info["LSMinimumSystemVersion"] == "13.0"
    assert info["NSHighResolutionCapable"] is True
    assert "@" not in text


def fake_bundle(tmp_path: Path) -> Path:
    """fedgui.app laid out as build-app.sh does, with this interpreter (which has fedgui) as its Python."""
    app = tmp_path / "My Apps & Tools" / "fedgui.app"
    (app / "Contents/MacOS").mkdir(parents=True)
    (app / "Contents/Resources/python/bin").mkdir(parents=True)
    shutil.copy(MACOS / "launcher.sh", app / "Contents/MacOS/fedgui")
    shutil.copy(MACOS / "start-at-login", app / "Contents/Resources/start-at-login")
    shutil.copy(MACOS / "org.fedgui.plist.in", app / "Contents/Resources/org.fedgui.plist.in")
    (app / "Contents/Resources/python/bin/python3").symlink_to(sys.executable)
    return app


def test_launcher_starts_fedgui_with_the_bundled_python(tmp_path: Path) -> None:
    app = fake_bundle(tmp_path)
    # A PYTHONPATH set for some other Python must not reach the bundled one.
    decoy = tmp_path / "decoy/fedgui"
    decoy.mkdir(parents=True)
    (decoy / "__main__.py").write_text("print('decoy fedgui')\n")
    (decoy / "__init__.py").write_text("")
    env = dict(os.environ, PYTHONPATH=str(decoy.parent))
    result = subprocess.run(
        [str(app / "Contents/MacOS/fedgui"), "-psn_0_12345", "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"fedgui {__version__}"


def test_start_at_login_writes_and_removes_the_launch_agent(tmp_path: Path) -> None:
    app = fake_bundle(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), PATH=f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    (tmp_path / "bin").mkdir()
    launchctl = tmp_path / "bin/launchctl"  # not on Linux; disable calls it
    launchctl.write_text("#!/bin/sh\nexit 0\n")
    launchctl.chmod(0o755)
    script = app / "Contents/Resources/start-at-login"
    result = subprocess.run([str(script), "enable"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    agent = home / "Library/LaunchAgents/org.fedgui.plist"
    plist = plistlib.loads(agent.read_bytes())
    assert plist["Label"] == "org.fedgui"
    assert plist["ProgramArguments"] == [str(app / "Contents/MacOS/fedgui"), "gui", "--start", "--minimized"]
    assert plist["RunAtLoad"] is True
    assert plist["LimitLoadToSessionType"] == "Aqua"
    status = subprocess.run([str(script), "status"], capture_output=True, text=True, env=env)
    assert status.stdout.startswith("enabled")
    subprocess.run([str(script), "disable"], check=True, capture_output=True, env=env)
    assert not agent.exists()


def test_iconset_for_iconutil(tmp_path: Path) -> None:
    iconset = tmp_path / "fedgui.iconset"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "installers/icons.py"),
            "iconset",
            str(REPO / "resources/icons/app.svg"),
            str(iconset),
        ],
        check=True,
        timeout=120,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    for size in (16, 32, 128, 256, 512):
        for name, pixels in ((f"icon_{size}x{size}.png", size), (f"icon_{size}x{size}@2x.png", size * 2)):
            header = (iconset / name).read_bytes()[:24]
            assert struct.unpack(">II", header[16:24]) == (pixels, pixels), name

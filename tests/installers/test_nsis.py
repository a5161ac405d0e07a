"""The Windows installer script compiles: makensis (Debian's nsis package) on a placeholder payload
with the real icon, warnings treated as errors. The real payload is built on Windows by
installers/windows/build.ps1; here we catch script errors."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.installers.conftest import REPO

pytestmark = [
    pytest.mark.installer,
    pytest.mark.skipif(shutil.which("makensis") is None, reason="makensis is missing (apt-get install nsis)"),
]

NSI = REPO / "installers/windows/fedgui.nsi"


def placeholder_payload(folder: Path) -> Path:
    python = folder / "python"
    (python / "Lib/site-packages/fedgui").mkdir(parents=True)
    for name in ("python.exe", "pythonw.exe"):
        (python / name).write_bytes(b"MZ placeholder")
    (python / "Lib/site-packages/fedgui/__init__.py").write_text('__version__ = "0.0.0"\n')
    (python / "share/fedgui/resources/icons").mkdir(parents=True)
    shutil.copy(REPO / "resources/icons/app.svg", python / "share/fedgui/resources/icons/app.svg")
    subprocess.run(
        [
            sys.executable,
            str(REPO / "installers/icons.py"),
            "ico",
            str(REPO / "resources/icons/app.svg"),
            str(folder / "fedgui.ico"),
        ],
        check=True,
        timeout=120,
    )
    return folder


def makensis(*defines: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["makensis", "-V2", "-WX", *defines, str(NSI)], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_nsis_script_compiles_to_an_installer(tmp_path: Path) -> None:
    payload = placeholder_payload(tmp_path / "payload")
    setup = tmp_path / "fedgui-0.1.0-setup.exe"
    result = makensis("-DVERSION=0.1.0", f"-DPAYLOAD={payload}", f"-DOUTFILE={setup}", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    data = setup.read_bytes()
    assert data[:2] == b"MZ" and len(data) > 50_000
    # A per-user installer: the manifest asks for no elevation.
    assert b"asInvoker" in data


def test_ico_has_the_sizes_windows_uses(tmp_path: Path) -> None:
    ico = placeholder_payload(tmp_path / "payload") / "fedgui.ico"
    data = ico.read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = {data[6 + 16 * i] or 256 for i in range(count)}
    assert {16, 32, 48, 256} <= sizes


def test_nsis_script_refuses_to_build_without_a_version(tmp_path: Path) -> None:
    result = makensis(f"-DPAYLOAD={tmp_path}", cwd=tmp_path)
    assert result.returncode != 0
    assert "VERSION" in result.stdout + result.stderr

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


def real_payload(folder: Path) -> Path:
    """The payload exactly as build.ps1 lays it out, with fedgui and the real Windows wheels of
    every dependency (PySide6, numpy, grpcio, ... for CPython 3.11 on win_amd64, from PyPI, cached
    by pip) in python/Lib/site-packages. Only the interpreter itself (python.exe, its DLLs and
    standard library, from the NuGet package on Windows) is a placeholder: no Windows here."""
    payload = placeholder_payload(folder)
    python = payload / "python"
    shutil.rmtree(python / "Lib/site-packages")
    source = folder / "src"
    source.mkdir()
    shutil.copy(REPO / "pyproject.toml", source)
    shutil.copy(REPO / "README.md", source)
    shutil.copytree(REPO / "fedgui", source / "fedgui", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    pip = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-compile"]
    pip += ["--target", str(python / "Lib/site-packages")]
    pip += ["--platform", "win_amd64", "--python-version", "3.11"]
    pip += ["--implementation", "cp", "--only-binary=:all:", str(source)]
    result = subprocess.run(pip, capture_output=True, text=True, timeout=1200)
    if result.returncode != 0 and "No matching distribution" in result.stderr + result.stdout:
        pytest.skip(f"the Windows wheels cannot be had here (offline?): {result.stderr.strip()[-300:]}")
    assert result.returncode == 0, result.stderr[-3000:]
    shutil.rmtree(source)
    share = python / "share/fedgui/resources"
    shutil.rmtree(share)  # as build.ps1: replace whatever pip put there
    share.mkdir(parents=True)
    shutil.copytree(REPO / "resources/icons", share / "icons")
    no_bytecode = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "resources/example", share / "example", ignore=no_bytecode)
    for placeholder in ("python3.dll", "python311.dll", "Lib/venv/__init__.py", "Lib/ensurepip/__init__.py"):
        (python / placeholder).parent.mkdir(parents=True, exist_ok=True)
        (python / placeholder).write_bytes(b"placeholder")
    return payload


@pytest.mark.slow
def test_nsis_compiles_the_real_payload_layout(tmp_path: Path) -> None:
    payload = real_payload(tmp_path / "payload")
    site = payload / "python/Lib/site-packages"
    for needed in ("fedgui/__main__.py", "PySide6/QtWidgets.pyd", "PySide6/plugins/platforms/qwindows.dll"):
        assert (site / needed).is_file(), needed
    size = sum(p.stat().st_size for p in payload.rglob("*") if p.is_file())
    setup = tmp_path / "fedgui-0.1.0-setup.exe"
    # zlib: the shipping /SOLID lzma takes minutes on two cores for the same files and script.
    result = makensis(
        "-DVERSION=0.1.0", f"-DPAYLOAD={payload}", f"-DOUTFILE={setup}", "-DCOMPRESSOR=zlib", cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = setup.read_bytes()
    assert data[:2] == b"MZ" and b"asInvoker" in data
    # Everything went in: compressed, the installer is still a sizeable part of the payload.
    assert len(data) > size / 4, (len(data), size)
    print(f"\npayload {size / 2**20:.0f} MiB -> setup.exe {len(data) / 2**20:.0f} MiB (zlib)")

"""The Debian package, for real: build it with installers/linux/build-deb, install it with apt,
run the installed app (version, offscreen self-check with the bundled example's preview through
the installed interpreter, the login entry's command), then purge it and check nothing is left.

Root on Debian only (CI runs the suite as root on a fresh Debian). It changes the system: fedgui
is installed system-wide during this module and purged at its end, even when a test fails.
"""

from __future__ import annotations

import os
import shlex
import shutil
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.installers.conftest import REPO

PREFIX = Path("/opt/fedgui")
VENV_PYTHON = PREFIX / "venv" / "bin" / "python"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)


def _skip_reason() -> str | None:
    if not Path("/etc/debian_version").exists():
        return "not a Debian-based system"
    if os.geteuid() != 0:
        return "installs a .deb system-wide: run as root (CI does)"
    for tool in ("dpkg-deb", "dpkg-query", "apt-get"):
        if shutil.which(tool) is None:
            return f"{tool} is missing"
    if not Path("/usr/bin/python3").exists():
        return "Debian's /usr/bin/python3 is missing"
    installed = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", "fedgui"], capture_output=True, text=True
    ).stdout
    if "installed" in installed and "not-installed" not in installed:
        return "a fedgui package is already installed here; this test would replace and purge it"
    if PREFIX.exists():
        return f"{PREFIX} exists and is not from a fedgui package; not touching it"
    return None


pytestmark = [
    pytest.mark.installer,
    pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or ""),
    pytest.mark.timeout(1800),  # a cold pip cache downloads ~150 MB of wheels
]


def run(argv: list[str], timeout: float = 600, **kwargs) -> subprocess.CompletedProcess[str]:
    # Never from the checkout: "python -c/-m" puts the working folder first on sys.path, and the
    # repository's fedgui/ would hide the installed one.
    kwargs.setdefault("cwd", "/")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, (
        f"{shlex.join(argv)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result


def app_env(home: Path) -> dict[str, str]:
    """What a person's session would give the app, minus the display: offscreen Qt, own HOME."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "VIRTUAL_ENV")}
    env.update(HOME=str(home), QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(home / ".config"))
    env.pop("FEDGUI_HOME", None)
    env.pop("PYTHONPATH", None)
    return env


def purge() -> None:
    subprocess.run(["apt-get", "purge", "-y", "-q", "fedgui"], capture_output=True, text=True, timeout=300)
    shutil.rmtree(PREFIX, ignore_errors=True)  # never leave a half-removed app behind


@pytest.fixture(scope="module")
def built_deb(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("deb-out")
    started = time.monotonic()
    # zstd (bookworm's dpkg reads it) builds in 2 s where xz, the shipping default, takes 1-2 minutes;
    # the package contents are the same. FEDGUI_TEST_DEB_COMPRESS=xz tests exactly what ships.
    compress = os.environ.get("FEDGUI_TEST_DEB_COMPRESS", "zstd")
    env = dict(os.environ, OUT=str(out), COMPRESS=compress)
    result = run([str(REPO / "installers/linux/build-deb")], timeout=1500, env=env)
    debs = list(out.glob("fedgui_*_*.deb"))
    assert len(debs) == 1, result.stdout
    print(
        f"\nbuild-deb took {time.monotonic() - started:.0f} s; {debs[0].name} is "
        f"{debs[0].stat().st_size / 2**20:.1f} MiB"
    )
    return debs[0]


@pytest.fixture(scope="module")
def installed(built_deb: Path) -> Iterator[list[str]]:
    """Install the package with apt as a person would; yields ``dpkg -L fedgui``; purges at the end."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        # --no-install-recommends: the test must not reach for optional packages (GTK theme, keyring)
        install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", str(built_deb)]
        if subprocess.run(install, capture_output=True, env=env, timeout=600).returncode != 0:
            # A fresh machine may lack a library Depends names, and apt's lists to fetch it.
            run(["apt-get", "update", "-q"], env=env)
            run(install, env=env)
        files = run(["dpkg-query", "-L", "fedgui"]).stdout.splitlines()
        yield files
    finally:
        purge()


def test_package_metadata(built_deb: Path) -> None:
    fields = run(["dpkg-deb", "-f", str(built_deb)]).stdout
    for expected in (
        "Package: fedgui",
        "Maintainer:",
        "Homepage:",
        "Description:",
        "python3-venv",
        "libxcb-cursor0",
        "libegl1",
        "libfontconfig1",
        "fonts-dejavu-core",
    ):
        assert expected in fields
    contents = run(["dpkg-deb", "-c", str(built_deb)]).stdout
    assert "./usr/bin/fedgui" in contents
    assert "./opt/fedgui/venv/bin/python3 -> /usr/bin/python3" in contents


def test_installed_version(installed: list[str], tmp_path: Path) -> None:
    from fedgui import __version__

    result = run(["/usr/bin/fedgui", "--version"], env=app_env(tmp_path))
    assert result.stdout.strip() == f"fedgui {__version__}"


def test_installed_self_check_runs_the_example_through_the_installed_interpreter(
    installed: list[str], tmp_path: Path
) -> None:
    result = run(["/usr/bin/fedgui", "gui", "--self-check"], timeout=300, env=app_env(tmp_path))
    output = result.stdout
    assert "main window: opened, rendered and closed" in output, output
    assert "example preview: validate ran on the sample data" in output, output
    assert output.strip().splitlines()[-1] == "OK", output


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is missing (apt-get install xvfb)")
def test_installed_self_check_on_an_x_server(installed: list[str], tmp_path: Path) -> None:
    """Qt's xcb platform plugin loads with only the libraries the package Depends on."""
    env = dict(app_env(tmp_path), QT_QPA_PLATFORM="xcb")
    argv = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "/usr/bin/fedgui", "gui", "--self-check"]
    result = run(argv, timeout=300, env=env)
    assert "platform xcb" in result.stdout, result.stdout
    assert result.stdout.strip().splitlines()[-1] == "OK", result.stdout


def test_installed_interpreter_is_real_and_builds_venvs(installed: list[str], tmp_path: Path) -> None:
    probe = "import sys, numpy, fedgui; print(getattr(sys, 'frozen', False), sys.prefix, fedgui.__file__)"
    result = run([str(VENV_PYTHON), "-c", probe], env=app_env(tmp_path))
    frozen, prefix, module = result.stdout.split()
    assert (frozen, prefix) == ("False", str(PREFIX / "venv"))
    assert module.startswith(str(PREFIX / "venv/lib/")), module
    # Compute packages with a python_env get a venv made from this interpreter (needs python3-venv).
    run([str(VENV_PYTHON), "-m", "venv", str(tmp_path / "pkg-env")], timeout=300, env=app_env(tmp_path))
    run([str(tmp_path / "pkg-env/bin/python"), "-m", "pip", "--version"], env=app_env(tmp_path))


def test_installed_app_finds_its_resources(installed: list[str], tmp_path: Path) -> None:
    """Icons and the bundled example, where fedgui.core.resources and the wizard look for them."""
    share = PREFIX / "venv/share/fedgui/resources"
    probe = (
        "import os; os.environ.pop('FEDGUI_RESOURCES', None)\n"  # core.resources needs no override
        "from fedgui.core.resources import example_dir, resources_dir\n"
        "print(example_dir()); print(resources_dir('icons/app.svg'))\n"
    )
    result = run([str(VENV_PYTHON), "-c", probe], env=app_env(tmp_path))
    assert result.stdout.split() == [str(share / "example"), str(share)]
    probe = "from fedgui.gui.wizard.example import find_example_folder; print(find_example_folder())"
    result = run([str(VENV_PYTHON), "-c", probe], env=app_env(tmp_path))
    assert result.stdout.strip() == str(share / "example")


def test_desktop_entry_and_icons(installed: list[str]) -> None:
    desktop = Path("/usr/share/applications/fedgui.desktop")
    assert str(desktop) in installed
    if shutil.which("desktop-file-validate"):
        run(["desktop-file-validate", str(desktop)])
    metainfo = Path("/usr/share/metainfo/org.fedgui.fedgui.metainfo.xml")
    assert str(metainfo) in installed
    if shutil.which("appstreamcli"):
        run(["appstreamcli", "validate", "--no-net", str(metainfo)])
    text = desktop.read_text()
    assert "Exec=fedgui\n" in text and "Icon=fedgui\n" in text
    for size in ICON_SIZES:
        png = Path(f"/usr/share/icons/hicolor/{size}x{size}/apps/fedgui.png")
        header = png.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", header[16:24]) == (size, size)
    assert Path("/usr/share/icons/hicolor/scalable/apps/fedgui.svg").is_file()


def test_login_entry_written_by_the_app_starts_the_installed_app(
    installed: list[str], tmp_path: Path
) -> None:
    """fedgui/core/autostart.py writes the entry from the running interpreter; it must start this install."""
    env = app_env(tmp_path)
    run([str(VENV_PYTHON), "-c", "from fedgui.core import autostart; autostart.enable()"], env=env)
    entry = tmp_path / ".config/autostart/fedgui.desktop"
    if shutil.which("desktop-file-validate"):
        run(["desktop-file-validate", str(entry)])
    exec_line = next(line for line in entry.read_text().splitlines() if line.startswith("Exec="))
    argv = shlex.split(exec_line.removeprefix("Exec="))
    assert argv[-3:] == ["gui", "--start", "--minimized"], argv
    assert Path(argv[0]).is_file() and argv[0].startswith(str(PREFIX)), argv
    # The same command without the GUI arguments must reach this install's fedgui.
    result = run([*argv[:-3], "gui", "--help"], env=env)
    assert "--minimized" in result.stdout and "--start" in result.stdout
    # And the icons are found from that command too.
    probe = "from fedgui.gui.common import theme; print((theme.icons_dir() / 'app.svg').is_file())"
    result = run([*argv[:-5], "-c", probe], env=env)
    assert result.stdout.strip() == "True"


def test_reinstall_over_itself_keeps_a_working_app(
    installed: list[str], built_deb: Path, tmp_path: Path
) -> None:
    """The upgrade path (prerm upgrade, unpack, postrm upgrade) must not remove the app."""
    run(["dpkg", "-i", str(built_deb)], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    result = run(["/usr/bin/fedgui", "--version"], env=app_env(tmp_path))
    assert result.stdout.startswith("fedgui ")
    assert (PREFIX / "venv/share/fedgui/resources/example/seed.npz").is_file()


def test_purge_leaves_nothing(installed: list[str], tmp_path: Path) -> None:
    """Last in this module: purge, even after the app ran as root and wrote byte-code under /opt."""
    # Root may byte-compile files that the package does not ship (e.g. the example package);
    # prerm must remove those so that purge leaves /opt/fedgui empty.
    run(
        [str(VENV_PYTHON), "-m", "compileall", "-q", str(PREFIX / "venv/share/fedgui/resources/example")],
        env=app_env(tmp_path),
    )
    (PREFIX / "venv" / "stray-file-written-at-run-time").write_text("x")
    run(["apt-get", "purge", "-y", "-q", "fedgui"], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    assert not PREFIX.exists(), sorted(str(p) for p in PREFIX.rglob("*"))[:20]
    left = [f for f in installed if f.startswith("/usr/") and os.path.lexists(f) and not os.path.isdir(f)]
    assert left == []
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "fedgui"], capture_output=True, text=True)
    assert "installed" not in status.stdout.replace("not-installed", "")

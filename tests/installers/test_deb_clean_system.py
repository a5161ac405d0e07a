"""The .deb on machines it has never seen, as Debian's piuparts checks packages: for Debian 12 and
Debian 13, build the package inside a minimal chroot of that release (so it is made from that
release's python3), then in fresh copies of the minimal chroot (no Qt libraries, no fonts, no
Python):

* install it with ``apt-get install ./fedgui_*.deb`` - so ``Depends:`` alone must bring every
  library - and run the installed app as a person (version, self-check offscreen and on an X
  server, its interpreter, its resources, the login entry it writes);
* purge it and check that nothing of the package is left: files, /opt/fedgui, alternatives,
  desktop entries, icon-cache entries, dpkg's own records;
* install the previous version, make a profile with an approved package, history and a keyring
  token through the installed app's own modules (the keyring is a real gnome-keyring on a D-Bus
  session inside the chroot), upgrade to this build: all of it is still there, files the new
  version no longer ships are gone, and the app starts.

Root only (debootstrap, chroot). Slow: the first run bootstraps two chroots and downloads the
wheels for two Pythons (~11 minutes); afterwards the chroots, apt's .debs and pip's wheels are
cached under ~/.cache/fedgui-tests/chroots (FEDGUI_TEST_CACHE).
"""

from __future__ import annotations

import json
import os
import shlex
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fedgui import __version__
from tests.installers.chroot import (
    BUILD_IN_CHROOT,
    PYTHON_OF_RELEASE,
    RELEASES,
    USER,
    Chroot,
    check,
    skip_reason,
)
from tests.installers.conftest import REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or ""),
    pytest.mark.timeout(3600),
]

PREFIX = "/opt/fedgui"
VENV_PYTHON = f"{PREFIX}/venv/bin/python"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)
USER_DATA_SCRIPT = REPO / "tests/installers/chroot_user_data.py"
# A module only the previous version has: the upgrade must remove it.
OBSOLETE_MODULE = "fedgui/obsolete_in_this_version.py"
KEYRING_PASSWORD = "fedgui-test-login"


@dataclass(frozen=True)
class Debs:
    release: str
    current: Path
    previous: Path
    version: str
    previous_version: str


def _fields(deb: Path) -> str:
    return check(
        subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True), "dpkg-deb -f"
    ).stdout


def _make_previous(current: Path, folder: Path, version: str) -> tuple[Path, str]:
    """The 'previous release': this build with a lower version and one extra module, repacked."""
    previous_version = version.replace("+", "~prev1+", 1) if "+" in version else version + "~prev1"
    tree = folder / "previous-tree"
    check(
        subprocess.run(["dpkg-deb", "-R", str(current), str(tree)], capture_output=True, text=True),
        "dpkg-deb -R",
    )
    control = tree / "DEBIAN/control"
    control.write_text(control.read_text().replace(f"Version: {version}\n", f"Version: {previous_version}\n"))
    site = next((tree / "opt/fedgui/venv/lib").glob("python3*/site-packages"))
    (site / OBSOLETE_MODULE).write_text('"""Shipped by the previous version only."""\n')
    previous = folder / f"fedgui_{previous_version}_{current.name.rsplit('_', 1)[1]}"
    argv = ["dpkg-deb", "--root-owner-group", "-Zzstd", "-z1", "--build", str(tree), str(previous)]
    check(subprocess.run(argv, capture_output=True, text=True), "dpkg-deb --build (previous)")
    return previous, previous_version


@pytest.fixture(scope="module", params=sorted(RELEASES), ids=lambda r: f"debian{r}")
def debs(request, tmp_path_factory) -> Debs:
    """This repository's .deb built inside the release's chroot, and a 'previous' one."""
    release = request.param
    out = tmp_path_factory.mktemp(f"debs-{release}")
    started = time.monotonic()
    # zstd builds in seconds where xz, the shipping default, takes minutes; same contents.
    env = dict(os.environ, OUT=str(out), COMPRESS=os.environ.get("FEDGUI_TEST_DEB_COMPRESS", "zstd"))
    result = subprocess.run(
        [str(BUILD_IN_CHROOT), release], capture_output=True, text=True, timeout=3000, env=env
    )
    check(result, f"build-deb-in-chroot {release}")
    built = sorted(out.glob("fedgui_*.deb"))
    assert len(built) == 1, result.stdout[-3000:]
    version = f"{__version__}+deb{release}"
    previous, previous_version = _make_previous(built[0], out, version)
    print(f"\nDebian {release}: build-deb-in-chroot took {time.monotonic() - started:.0f} s; {built[0].name}")
    return Debs(release, built[0], previous, version, previous_version)


@pytest.fixture
def chroot(debs: Debs, tmp_path: Path) -> Iterator[Chroot]:
    """A fresh copy of the release's minimal chroot with the packages at /debs and a person."""
    root = Chroot.fresh(RELEASES[debs.release], tmp_path)
    try:
        root.bind(debs.current.parent, "/debs")
        root.bind(USER_DATA_SCRIPT, "/usr/local/share/fedgui-test/user_data.py")
        root.add_user()
        yield root
    finally:
        root.remove()


@pytest.fixture
def x_server(tmp_path: Path) -> Iterator[str]:
    """An Xvfb on this machine; a chroot reaches it through the abstract X socket (same network
    namespace), which is how a person's session would offer a display."""
    if not Path("/usr/bin/Xvfb").exists():
        pytest.skip("Xvfb is missing (tools/ensure-system-packages dev installs it)")
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-nolisten", "tcp", "-screen", "0", "1280x800x24"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        assert number, "Xvfb did not start"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def installed_files(root: Chroot) -> list[str]:
    return root.ok("dpkg-query -L fedgui").splitlines()


def keyring_session(command: str) -> str:
    """A shell line: ``command`` on a private D-Bus session with the person's gnome-keyring
    unlocked (made on first use with KEYRING_PASSWORD, like a login keyring)."""
    inner = (
        f"printf %s {KEYRING_PASSWORD} | gnome-keyring-daemon --foreground --unlock --components=secrets "
        ">/dev/null 2>&1 & "
        "for _ in $(seq 100); do dbus-send --session --print-reply --dest=org.freedesktop.DBus / "
        "org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | "
        "grep -q 'boolean true' && break; sleep 0.1; done; "
        f"{command}"
    )
    return f"dbus-run-session -- bash -c {shlex.quote(inner)}"


def test_package_is_for_its_release_and_ships_only_what_the_app_loads(debs: Debs) -> None:
    fields = _fields(debs.current)
    assert f"Version: {debs.version}\n" in fields
    python = PYTHON_OF_RELEASE[debs.release]
    assert f"python3 (>= {python}~)" in fields, fields
    for dependency in (
        "python3-venv",
        "bubblewrap",
        "libxcb-cursor0",
        "libegl1",
        "libfontconfig1",
        "fonts-dejavu-core",
    ):
        assert dependency in fields, dependency
    contents = subprocess.run(["dpkg-deb", "-c", str(debs.current)], capture_output=True, text=True).stdout
    assert "./opt/fedgui/venv/bin/python3 -> /usr/bin/python3" in contents
    for pruned in (
        "libqpdf.so",
        "libQt6WaylandCompositor",
        "libQt6Quick.so",
        "/Qt/qml/",
        "QtQml.abi3.so",
        "libqvnc.so",
    ):
        assert pruned not in contents, f"{pruned} should have been pruned"
    for kept in ("libqxcb.so", "libqwayland.so", "libqoffscreen.so", "libqsvgicon.so", "libQt6Widgets.so.6"):
        assert kept in contents, f"{kept} is missing"
    installed_kib = int(
        next(line for line in fields.splitlines() if line.startswith("Installed-Size:")).split()[1]
    )
    print(f"\nDebian {debs.release}: Installed-Size {installed_kib / 1024:.0f} MiB")
    assert installed_kib < 280 * 1024, "the pruned package grew back towards the unpruned 345 MiB"


def test_clean_install_runs_then_purge_leaves_nothing(debs: Debs, chroot: Chroot, x_server: str) -> None:
    root = chroot
    # --- install with Depends only (the chroot never installs Recommends) ---------------------
    root.apt_install(f"/debs/{debs.current.name}")
    status = root.ok("dpkg-query -W -f='${Version} ${Status}' fedgui")
    assert status == f"{debs.version} install ok installed", status
    absent = root.run(
        "dpkg-query -W -f='${Status}' libgtk-3-0 libgtk-3-0t64 gnome-keyring 2>/dev/null || true"
    )
    assert "install ok installed" not in absent.stdout, "the test must run without Recommends"

    # --- the installed app, run by a person -------------------------------------------------
    assert root.ok(root.as_user("fedgui --version")).strip() == f"fedgui {__version__}"
    out = root.ok(root.as_user("fedgui gui --self-check"), timeout=600)
    assert "main window: opened, rendered and closed" in out, out
    assert "example preview: validate ran on the sample data" in out, out
    assert out.strip().splitlines()[-1] == "OK", out
    # Qt's xcb plugin loads with only what Depends brought, on an X server.
    out = root.ok(
        root.as_user(
            "fedgui gui --self-check", offscreen=False, extra_env=f"DISPLAY={x_server} QT_QPA_PLATFORM=xcb"
        )
    )
    assert "platform xcb" in out and out.strip().splitlines()[-1] == "OK", out

    # Its interpreter is real, is Debian's python3 of this release, and makes venvs with pip.
    probe = (
        "import sys, numpy, fedgui; "
        "print(getattr(sys, 'frozen', False), sys.prefix, '%d.%d' % sys.version_info[:2], fedgui.__file__)"
    )
    frozen, prefix, python, module = root.ok(root.as_user(f"{VENV_PYTHON} -c {shlex.quote(probe)}")).split()
    assert (frozen, prefix, python) == ("False", f"{PREFIX}/venv", PYTHON_OF_RELEASE[debs.release])
    assert module.startswith(f"{PREFIX}/venv/lib/"), module
    root.ok(root.as_user(f"{VENV_PYTHON} -m venv /tmp/pkg-env && /tmp/pkg-env/bin/python -m pip --version"))

    # The sandbox compute packages run in: bubblewrap came with Depends and works for a person here.
    probe = (
        "from fedgui.core.execution.sandbox import detect_isolation as d; i = d(); print(i.method, i.reason)"
    )
    isolation = root.ok(root.as_user(f"{VENV_PYTHON} -c {shlex.quote(probe)}"))
    assert isolation.split()[0] == "bwrap", isolation

    # Resources where fedgui.core.resources and the wizard look for them.
    share = f"{PREFIX}/venv/share/fedgui/resources"
    probe = (
        "from fedgui.core.resources import example_dir, resources_dir\n"
        "from fedgui.gui.wizard.example import find_example_folder\n"
        "print(example_dir()); print(resources_dir('icons/app.svg')); print(find_example_folder())\n"
    )
    assert root.ok(root.as_user(f"{VENV_PYTHON} -c {shlex.quote(probe)}")).split() == [
        f"{share}/example",
        share,
        f"{share}/example",
    ]

    # Desktop entry and icons.
    files = installed_files(root)
    assert "/usr/share/applications/fedgui.desktop" in files
    desktop = root.file("/usr/share/applications/fedgui.desktop").read_text()
    assert "Exec=fedgui\n" in desktop and "Icon=fedgui\n" in desktop
    for size in ICON_SIZES:
        header = root.file(f"/usr/share/icons/hicolor/{size}x{size}/apps/fedgui.png").read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", header[16:24]) == (size, size)

    # The login entry the app writes (fedgui.core.autostart) starts this install.
    root.ok(root.as_user(f"{VENV_PYTHON} -c 'from fedgui.core import autostart; autostart.enable()'"))
    entry = root.file(f"/home/{USER}/.config/autostart/fedgui.desktop").read_text()
    argv = shlex.split(
        next(line for line in entry.splitlines() if line.startswith("Exec=")).removeprefix("Exec=")
    )
    assert argv[-3:] == ["gui", "--start", "--minimized"] and argv[0].startswith(PREFIX), argv
    out = root.ok(root.as_user(shlex.join([*argv[:-3], "gui", "--help"])))
    assert "--minimized" in out and "--start" in out
    probe = "from fedgui.gui.common import theme; print((theme.icons_dir() / 'app.svg').is_file())"
    assert root.ok(root.as_user(shlex.join([*argv[:-5], "-c", probe]))).strip() == "True"

    # --- the desktop's caches name fedgui once the tools that keep them are there ------------
    root.apt_install("desktop-file-utils", "gtk-update-icon-cache")
    root.ok(f"apt-get install -y -q --reinstall /debs/{debs.current.name}")
    assert b"fedgui" in root.file("/usr/share/icons/hicolor/icon-theme.cache").read_bytes()

    # --- purge, after root ran the app and wrote byte-code and a stray file under /opt -------
    root.ok(
        f"{VENV_PYTHON} -m compileall -q {share}/example && "
        f"touch {PREFIX}/venv/stray-file-written-at-run-time"
    )
    root.ok("apt-get purge -y -q fedgui")
    left = [f for f in files if f != "/." and root.file(f).exists() and not root.file(f).is_dir()]
    assert left == [], left
    assert not root.file(PREFIX).exists()
    assert "fedgui" not in root.ok(
        "dpkg-query -W -f='${Package} ${Status}\\n' 2>/dev/null | grep -v 'not-installed' || true"
    )
    assert "fedgui" not in root.ok("update-alternatives --get-selections || true")
    assert not list(root.file("/etc/alternatives").glob("*fedgui*"))
    assert not list(root.file("/var/lib/dpkg/info").glob("fedgui.*")), "dpkg still has records of fedgui"
    cache = root.file("/usr/share/icons/hicolor/icon-theme.cache")
    assert not cache.exists() or b"fedgui" not in cache.read_bytes(), "the icon cache still names fedgui"
    mime_cache = root.file("/usr/share/applications/mimeinfo.cache")
    assert not mime_cache.exists() or "fedgui" not in mime_cache.read_text()
    # Nothing named after us anywhere on the system, except the person's own data (kept by design).
    named = root.ok(
        "find / -xdev \\( -path /proc -o -path /sys -o -path /dev -o -path /home -o -path /tmp -o -path /debs"
        " -o -path /var/cache/apt/archives -o -path /usr/local/share/fedgui-test \\)"
        " -prune -o -iname '*fedgui*' -print"
    )
    assert named.split() == [], named
    assert root.file(f"/home/{USER}/.config/autostart/fedgui.desktop").exists(), "a person's files are theirs"


def test_upgrade_keeps_profile_approval_history_and_token(debs: Debs, chroot: Chroot) -> None:
    root = chroot
    root.apt_install(f"/debs/{debs.previous.name}")
    assert root.ok("dpkg-query -W -f='${Version}' fedgui") == debs.previous_version
    # The person's desktop has a keyring (fedgui Recommends gnome-keyring).
    root.apt_install("dbus", "gnome-keyring")
    user_data = f"{VENV_PYTHON} /usr/local/share/fedgui-test/user_data.py"
    made = json.loads(root.ok(root.as_user(keyring_session(f"{user_data} make"))).strip().splitlines()[-1])
    site = root.ok(f"{VENV_PYTHON} -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'").strip()
    assert root.file(f"{site}/{OBSOLETE_MODULE}").exists()

    root.apt_install(f"/debs/{debs.current.name}")
    assert root.ok("dpkg-query -W -f='${Version}' fedgui") == debs.version
    assert not root.file(f"{site}/{OBSOLETE_MODULE}").exists(), (
        "a file the new version no longer ships stayed"
    )

    found_raw = root.run(root.as_user(keyring_session(f"{user_data} check")))
    found = json.loads(found_raw.stdout.strip().splitlines()[-1]) if found_raw.stdout.strip() else {}
    assert found_raw.returncode == 0, (found, found_raw.stderr[-3000:])
    assert found["profile"] == made["profile"] and found["task"] == made["task"], found
    assert found["metrics"] == {"accuracy": 0.875}, found
    assert root.ok(root.as_user("fedgui --version")).strip() == f"fedgui {__version__}"
    out = root.ok(root.as_user(keyring_session("fedgui gui --self-check")), timeout=600)
    assert out.strip().splitlines()[-1] == "OK", out


@pytest.mark.parametrize("release", sorted(RELEASES), ids=lambda r: f"debian{r}")
def test_build_deb_on_a_fresh_machine_names_what_it_needs(release: str, tmp_path: Path) -> None:
    """Not root, nothing installed: build-deb stops before starting, with the one command to run,
    in that release's package names (Debian 13 renamed libglib2.0-0 to libglib2.0-0t64)."""
    root = Chroot.fresh(RELEASES[release], tmp_path)
    try:
        root.bind(REPO, "/src")
        root.add_user()
        result = root.run(root.as_user("/src/installers/linux/build-deb"), timeout=300)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "sudo apt-get install python3 python3-venv" in result.stderr, result.stderr
        for package in ("libxcb-cursor0", "libegl1", "libfontconfig1"):
            assert package in result.stderr
        glib = "libglib2.0-0t64" if release == "13" else "libglib2.0-0"
        assert f" {glib} " in result.stderr, result.stderr
        assert "virtual environment" not in result.stdout, "it started building anyway"
    finally:
        root.remove()

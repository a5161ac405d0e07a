"""A fresh Debian chroot per test, made by installers/linux/debian-chroot (root only).

Each :class:`Chroot` is a copy of the cached minimal chroot of one release (debootstrap
``minbase``: no Qt libraries, no fonts, no Python). Commands run in their own mount and PID
namespaces, so nothing they start or mount outlives them.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.installers.conftest import REPO

DEBIAN_CHROOT = REPO / "installers/linux/debian-chroot"
BUILD_IN_CHROOT = REPO / "installers/linux/build-deb-in-chroot"
RELEASES = {"12": "bookworm", "13": "trixie"}
# What Debian 12 and 13 ship as python3.
PYTHON_OF_RELEASE = {"12": "3.11", "13": "3.13"}
USER = "alice"


def cache_dir() -> Path:
    base = os.environ.get("FEDGUI_TEST_CACHE") or str(Path.home() / ".cache" / "fedgui-tests")
    return Path(base)


def skip_reason() -> str | None:
    """Why the chroot tests cannot run here, or None."""
    if not Path("/etc/debian_version").exists():
        return "not a Debian-based system"
    if os.geteuid() != 0:
        return "makes Debian chroots (debootstrap, chroot, mounts): run as root (CI does)"
    for tool in ("debootstrap", "unshare", "dpkg-deb"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (tools/ensure-system-packages dev installs it)"
    return None


def check(result: subprocess.CompletedProcess[str], what: str) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (
        f"{what} failed ({result.returncode}):\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}"
    )
    return result


class Chroot:
    """A throw-away copy of the cached chroot of ``release`` at ``path``."""

    def __init__(self, release: str, path: Path) -> None:
        self.release = release
        self.path = path
        self.binds: list[str] = []

    @classmethod
    def fresh(cls, release: str, folder: Path) -> Chroot:
        """A copy of the cached chroot, in memory when there is room (see :func:`scratch_parent`)."""
        path = Path(tempfile.mkdtemp(prefix="fedgui-chroot-", dir=scratch_parent(folder))) / "root"
        result = subprocess.run(
            [str(DEBIAN_CHROOT), "copy", release, str(path)], capture_output=True, text=True, timeout=1800
        )
        check(result, f"debian-chroot copy {release}")
        # Tests only: dpkg skips its fsync per unpacked file. What is tested (which files a package
        # brings and leaves) does not depend on it; on a busy disk it is most of an install's time.
        (path / "etc/dpkg/dpkg.cfg.d/test-unsafe-io").write_text("force-unsafe-io\n")
        return cls(release, path)

    def bind(self, host: Path, inside: str, *, read_only: bool = True) -> None:
        self.binds += ["--ro-bind" if read_only else "--bind", f"{host}:{inside}"]

    def run(self, script: str, *, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run a bash script as root inside; returns the finished process (not checked)."""
        argv = [
            str(DEBIAN_CHROOT),
            "run",
            str(self.path),
            *self.binds,
            "--",
            "bash",
            "-euo",
            "pipefail",
            "-c",
            script,
        ]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)

    def ok(self, script: str, *, timeout: float = 600) -> str:
        """Run a bash script as root inside, fail the test if it fails; returns its stdout."""
        return check(self.run(script, timeout=timeout), script.strip().splitlines()[0][:120]).stdout

    def apt_install(self, *packages: str, timeout: float = 900) -> str:
        """apt-get install as a person would (no Recommends, as the chroot is configured); refreshes
        the package lists once if the cached ones went stale (a Debian point release)."""
        names = shlex.join(packages)
        result = self.run(f"apt-get install -y -q {names}", timeout=timeout)
        if result.returncode != 0:
            result = self.run(f"apt-get update -q && apt-get install -y -q {names}", timeout=timeout)
        return check(result, f"apt-get install {names}").stdout

    def as_user(self, command: str, *, offscreen: bool = True, extra_env: str = "") -> str:
        """A shell line that runs ``command`` as the test person, with their own HOME."""
        env = f"HOME=/home/{USER} USER={USER} LANG=C.UTF-8 XDG_RUNTIME_DIR=/tmp/{USER}-run {extra_env}"
        if offscreen:
            env += " QT_QPA_PLATFORM=offscreen"
        return (
            f"mkdir -p /tmp/{USER}-run && chown {USER} /tmp/{USER}-run && chmod 700 /tmp/{USER}-run && "
            f"runuser -u {USER} -- env -C /home/{USER} {env} bash -c {shlex.quote(command)}"
        )

    def add_user(self) -> None:
        self.ok(f"id {USER} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash {USER}")

    def file(self, inside: str) -> Path:
        return self.path / inside.lstrip("/")

    def remove(self) -> None:
        subprocess.run([str(DEBIAN_CHROOT), "remove", str(self.path)], capture_output=True, timeout=600)
        with contextlib.suppress(OSError):
            self.path.parent.rmdir()


def scratch_parent(fallback: Path) -> Path:
    """Where a throw-away chroot goes: /dev/shm (memory) when it has room for two of them (about
    1 GiB each once fedgui and a keyring are installed), else ``fallback`` on disk. Copying,
    installing into and deleting a chroot in memory takes seconds instead of minutes."""
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 4 * 2**30:
            return shm
    except OSError:
        pass
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback

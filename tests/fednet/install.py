"""Build (once) and find the virtual environments that run the FEDn server side.

They live outside the repository, in ``${FEDGUI_TEST_CACHE:-~/.cache/fedgui-tests}/fedn-0.33.0``,
because they are big (≈650 MB together) and slow to build (about a minute each). Parallel test
runs share them: a file lock makes the first run build and the others wait. A venv is only used
when its ``.complete`` marker exists; a venv without one is a leftover of an interrupted build and
is deleted and built again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

FEDN_VERSION = "0.33.0"
# SQLAlchemy 2.1 switches the PostgreSQL driver to psycopg 3 and fedn's open range pulls it in.
FEDN_REQUIREMENTS = (f"fedn=={FEDN_VERSION}", "SQLAlchemy<2.1")
MOTO_REQUIREMENTS = ("moto[server]",)
COMPLETE_MARKER = ".complete"
INSTALL_TIMEOUT_S = 1200


@dataclass(frozen=True)
class FednEnvironments:
    fedn_python: Path
    moto_python: Path
    build_seconds: float  # 0.0 when both were already there

    @property
    def fedn_bin(self) -> Path:
        return self.fedn_python.parent

    @property
    def moto_bin(self) -> Path:
        return self.moto_python.parent


def cache_root() -> Path:
    base = os.environ.get("FEDGUI_TEST_CACHE") or str(Path.home() / ".cache" / "fedgui-tests")
    return Path(base) / f"fedn-{FEDN_VERSION}"


def ensure_environments(root: Path | None = None, log=print) -> FednEnvironments:
    """Return the two venvs, building the missing ones first (under an exclusive lock)."""
    root = root or cache_root()
    root.mkdir(parents=True, exist_ok=True)
    fedn_venv, moto_venv = root / "venv-fedn", root / "venv-moto"
    if _complete(fedn_venv) and _complete(moto_venv):
        return FednEnvironments(_python(fedn_venv), _python(moto_venv), 0.0)
    started = time.monotonic()
    with _exclusive_lock(root / ".install.lock", log):
        # Another run may have finished the build while we waited for the lock.
        missing = [
            (venv, requirements)
            for venv, requirements in ((fedn_venv, FEDN_REQUIREMENTS), (moto_venv, MOTO_REQUIREMENTS))
            if not _complete(venv)
        ]
        # The two venvs are independent: building them side by side halves the wait.
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(_build_venv, venv, reqs, log) for venv, reqs in missing]:
                future.result()
    return FednEnvironments(_python(fedn_venv), _python(moto_venv), time.monotonic() - started)


def base_interpreter() -> str:
    """A Python that fedn 0.33 supports (< 3.13): the running one if it fits, else one on PATH."""
    if sys.version_info < (3, 13):
        return sys.executable
    for name in ("python3.12", "python3.11", "python3.10"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("FEDn 0.33 needs Python 3.10-3.12 to build its test venv; none was found on PATH.")


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _complete(venv: Path) -> bool:
    return (venv / COMPLETE_MARKER).is_file() and _python(venv).exists()


@contextlib.contextmanager
def _exclusive_lock(lock_path: Path, log) -> Iterator[None]:
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"fednet: another test run is building the FEDn venvs; waiting for {lock_path}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_venv(venv: Path, requirements: tuple[str, ...], log) -> None:
    if venv.exists():
        log(f"fednet: removing half-built venv {venv}")
        shutil.rmtree(venv)
    log(f"fednet: building {venv.name} with {' '.join(requirements)} (about a minute, once)")
    started = time.monotonic()
    build_log = venv.parent / f"{venv.name}.build.log"
    try:
        with open(build_log, "w") as out:
            _run([base_interpreter(), "-m", "venv", str(venv)], out)
            _run([str(_python(venv)), "-m", "pip", "install", "--upgrade", "pip"], out)
            _run([str(_python(venv)), "-m", "pip", "install", *requirements], out)
    except BaseException:
        shutil.rmtree(venv, ignore_errors=True)
        raise
    (venv / COMPLETE_MARKER).write_text(f"{' '.join(requirements)}\n")
    log(f"fednet: {venv.name} ready in {time.monotonic() - started:.0f} s")


def _run(argv: list[str], out) -> None:
    out.write(f"$ {' '.join(argv)}\n")
    out.flush()
    result = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT_S)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} ... failed (exit {result.returncode}); see {out.name}")

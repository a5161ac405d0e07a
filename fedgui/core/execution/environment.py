"""The Python that runs a compute package: a real base interpreter, plus a cached venv when the
package declares ``python_env``.

FEDn builds ``<package>/<name>`` with ``virtualenv`` from its own interpreter and reuses any
folder of that name, even a half-built one. We build from a real base interpreter (a frozen
app's ``sys.executable`` is the GUI binary), cache by a hash of the spec and the interpreter,
and never reuse an environment whose build did not finish.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from fedgui.core import paths
from fedgui.core.disk_space import DiskFull, low_on_space, mentions_disk_full
from fedgui.core.errors import FedguiError
from fedgui.core.events import Event, EventSink, LogLine
from fedgui.core.execution.process_tree import IS_WINDOWS, new_group_popen_kwargs, terminate_tree
from fedgui.core.fileio import atomic_write_text

MIN_PYTHON = (3, 9)
#: Written last into a finished environment; an environment without it is half-built.
COMPLETE_MARKER = ".fedgui-env-complete.json"
_PROBE_TIMEOUT_SECONDS = 30

_PROBE_CODE = (
    "import json, sys, platform; print(json.dumps({'version': list(sys.version_info[:3]), "
    "'implementation': platform.python_implementation(), 'executable': sys.executable, "
    "'frozen': bool(getattr(sys, 'frozen', False))}))"
)


class PythonEnvironmentError(FedguiError):
    """Base class for problems with the Python that runs the package."""

    default_next_step = "Check the Python interpreter in the profile settings, then try again."


class BasePythonNotFound(PythonEnvironmentError):
    default_next_step = (
        "Install Python 3.9 or newer, or choose an interpreter in the profile settings, then try again."
    )


class EnvironmentBuildFailed(PythonEnvironmentError):
    default_next_step = (
        "Check your internet connection; if the problem stays, send this message to the "
        "operator of the network (the package's author)."
    )


class RequirementInstallFailed(EnvironmentBuildFailed):
    """pip could not install one of the package's requirements."""

    def __init__(self, requirement: str, reason: str, next_step: str | None = None) -> None:
        super().__init__(f"Could not install {requirement}: {reason}", next_step)
        self.requirement = requirement
        self.reason = reason


class EnvironmentBuildCancelled(PythonEnvironmentError):
    default_next_step = "Start again when you are ready."


class PythonEnvSpecLike(Protocol):
    """What the builder needs from ``fedgui.core.package.PythonEnvSpec`` (read-only, as that
    frozen dataclass's fields are)."""

    @property
    def name(self) -> str: ...
    @property
    def build_dependencies(self) -> Sequence[str]: ...
    @property
    def dependencies(self) -> Sequence[str]: ...

    def spec_hash(self, interpreter_version: str) -> str: ...


@dataclass(frozen=True)
class BasePython:
    """A checked interpreter and what it reported about itself."""

    path: Path
    version: tuple[int, int, int]
    implementation: str

    @property
    def identity(self) -> str:
        """Part of the environment cache key: a venv links to its base, so the path counts too."""
        version = ".".join(str(part) for part in self.version)
        return f"{self.implementation.lower()}-{version}@{self.path}"


@dataclass(frozen=True)
class PythonEnvironment:
    """How to run an entry point's ``python``: the interpreter, the folder to put first on PATH,
    and extra variables (``VIRTUAL_ENV`` for a venv)."""

    python: Path
    bin_dir: Path
    variables: dict[str, str] = field(default_factory=dict)
    #: Folders put before ``bin_dir`` on PATH (small ``python``/``python3`` launchers).
    extra_path: tuple[Path, ...] = ()

    def apply_to(self, environ: dict[str, str]) -> dict[str, str]:
        """A copy of ``environ`` in which ``python`` means this environment's interpreter."""
        result = dict(environ)
        # FEDn runs commands through the shell with the inherited PATH, so `python` is whatever
        # comes first there; putting our interpreter first is how `python train.py` finds it.
        front = [str(folder) for folder in (*self.extra_path, self.bin_dir)]
        path_key = _path_key(result)
        current = result.get(path_key, "")
        result[path_key] = os.pathsep.join([*front, current] if current else front)
        result.pop("PYTHONHOME", None)  # would point the venv's python at another stdlib
        result.update(self.variables)
        return result


@dataclass(frozen=True)
class EnvironmentBuildStep(Event):
    """Progress of an environment build: step ``index`` of ``total`` (1-based) is starting."""

    index: int
    total: int
    label: str


def _path_key(environ: dict[str, str]) -> str:
    # Windows environment names are case-insensitive and often spelled "Path".
    for key in environ:
        if key.upper() == "PATH":
            return key
    return "PATH"


# ---------------------------------------------------------------------------------------------
# Base interpreter


def probe_python(command: Sequence[str]) -> BasePython:
    """Run ``command -c ...`` and return what the interpreter says; raises BasePythonNotFound."""
    shown = " ".join(command)
    try:
        completed = subprocess.run(
            [*command, "-c", _PROBE_CODE],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise BasePythonNotFound(f"Could not start the Python interpreter {shown} ({exc}).") from None
    if completed.returncode != 0:
        raise BasePythonNotFound(
            f"{shown} did not run as a Python interpreter (exit code {completed.returncode})."
        )
    try:
        info = json.loads(completed.stdout.strip().splitlines()[-1])
        major, minor, micro = (int(part) for part in info["version"])
        version = (major, minor, micro)
    except (ValueError, KeyError, IndexError, TypeError):
        raise BasePythonNotFound(f"{shown} did not answer like a Python interpreter.") from None
    if info.get("frozen"):
        raise BasePythonNotFound(f"{shown} is a packaged application, not a Python interpreter.")
    if version[:2] < MIN_PYTHON:
        found = ".".join(str(part) for part in version)
        raise BasePythonNotFound(f"{shown} is Python {found}; packages need Python 3.9 or newer.")
    return BasePython(Path(info["executable"]), version, str(info.get("implementation", "CPython")))


def console_interpreter(executable: str) -> str:
    """On Windows the desktop app runs under ``pythonw.exe``, which has no console streams:
    entry points need the ``python.exe`` beside it so their output can be read."""
    path = Path(executable)
    if path.name.lower() == "pythonw.exe" and path.with_name("python.exe").exists():
        return str(path.with_name("python.exe"))
    return executable


def _candidate_commands() -> list[list[str]]:
    candidates: list[list[str]] = []
    if not getattr(sys, "frozen", False) and sys.executable:
        candidates.append([console_interpreter(sys.executable)])
    if IS_WINDOWS:
        candidates += [["py", "-3"], ["python"], ["python3"]]
    else:
        candidates += [["python3"], ["python"]]
    return candidates


def resolve_base_python_info(preferred: str | os.PathLike[str] | None = None) -> BasePython:
    """Like :func:`resolve_base_python`, with the version that was found."""
    if preferred:
        return probe_python([str(preferred)])
    problems = []
    for command in _candidate_commands():
        if len(command) == 1 and not Path(command[0]).is_absolute() and shutil.which(command[0]) is None:
            continue
        try:
            return probe_python(command)
        except BasePythonNotFound as exc:
            problems.append(exc.message)
    detail = f" ({' '.join(problems)})" if problems else ""
    raise BasePythonNotFound(f"No usable Python interpreter was found on this computer{detail}.")


def resolve_base_python(preferred: str | os.PathLike[str] | None = None) -> Path:
    """The interpreter that runs packages: the profile's choice if given, else the one running
    fedgui (unless it is a frozen app), else ``python3`` on PATH (``py -3`` on Windows)."""
    return resolve_base_python_info(preferred).path


# ---------------------------------------------------------------------------------------------
# pip output


_PIP_ERROR = re.compile(r"^ERROR:\s*(?P<text>.+)$")
_FAILED_REQUIREMENT_PATTERNS = (
    re.compile(r"No matching distribution found for (?P<req>\S+)"),
    re.compile(r"Could not find a version that satisfies the requirement (?P<req>\S+)"),
    re.compile(r"Failed building wheel for (?P<req>\S+)"),
    re.compile(r"Failed to build (?P<req>\S+)"),
    re.compile(r"Invalid requirement: '?(?P<req>[^'\s]+)'?"),
)


def explain_pip_failure(error_lines: Sequence[str], requirements: Sequence[str]) -> RequirementInstallFailed:
    """Turn pip's ``ERROR:`` lines into one plain message naming the requirement that failed."""
    texts = [match.group("text").strip() for line in error_lines if (match := _PIP_ERROR.match(line.strip()))]
    requirement = None
    for text in texts:
        for pattern in _FAILED_REQUIREMENT_PATTERNS:
            if match := pattern.search(text):
                requirement = match.group("req").rstrip(".,;")
                break
        if requirement:
            break
    if requirement is None:
        requirement = ", ".join(requirements) if len(requirements) <= 3 else "the package's dependencies"
    # The last ERROR line is usually the summary ("No matching distribution found for X").
    reason = texts[-1] if texts else "pip stopped with an error (see the pip lines in the log)"
    return RequirementInstallFailed(requirement, reason)


# ---------------------------------------------------------------------------------------------
# Builder


Cancelled = Callable[[], bool]


class EnvironmentBuilder:
    """Creates and caches the environments that packages run in.

    ``ensure(None, base)`` needs no building: entry points run with the base interpreter.
    ``ensure(spec, base)`` returns the cached venv for that spec and interpreter, building it
    first if needed (step 1 create venv, step 2 build dependencies, step 3 dependencies).
    """

    def __init__(self, cache_root: Path | None = None) -> None:
        self._cache_root = Path(cache_root) if cache_root else None
        self._cancel = threading.Event()
        self._current: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def cache_root(self) -> Path:
        root = self._cache_root or paths.cache_dir() / "envs"
        root.mkdir(parents=True, exist_ok=True)
        return root

    def cancel(self) -> None:
        """Stop a build in progress (from any thread); ``ensure`` then raises EnvironmentBuildCancelled."""
        self._cancel.set()
        with self._lock:
            current = self._current
        if current is not None and current.poll() is None:
            terminate_tree(current.pid, grace_seconds=3)

    def ensure(
        self,
        spec: PythonEnvSpecLike | None,
        base_python: str | os.PathLike[str] | BasePython,
        on_line: EventSink | None = None,
        on_progress: EventSink | None = None,
    ) -> PythonEnvironment:
        """The environment for ``spec`` (None: the base interpreter itself).

        ``on_line`` receives pip's output as ``LogLine(source="pip")``; ``on_progress``
        receives :class:`EnvironmentBuildStep` events. Both may be the same EventSink.
        """
        self._cancel.clear()
        base = base_python if isinstance(base_python, BasePython) else probe_python([str(base_python)])
        if spec is None:
            return self._base_environment(base)
        # 32 hex digits are plenty to tell specs apart and keep Windows paths short.
        target = self.cache_root / spec.spec_hash(base.identity)[:32]
        if is_complete(target):
            return _venv_environment(target)
        with _BuildLock(target.with_name(target.name + ".lock")):
            if is_complete(target):  # another process finished it while we waited
                return _venv_environment(target)
            return self._build(spec, base, target, on_line or _drop, on_progress or _drop)

    # -- no python_env ------------------------------------------------------------------------

    def _base_environment(self, base: BasePython) -> PythonEnvironment:
        launchers = () if IS_WINDOWS else (self._launcher_dir(base),)
        return PythonEnvironment(python=base.path, bin_dir=base.path.parent, extra_path=launchers)

    def _launcher_dir(self, base: BasePython) -> Path:
        """A folder with ``python`` and ``python3`` scripts that exec the base interpreter.

        The base's own folder may have only ``python3`` (or an unrelated ``python``). Scripts
        rather than symlinks: a symlinked venv python would lose its venv (it looks for
        ``pyvenv.cfg`` next to the name it was started by).
        """
        folder = self.cache_root / "launchers" / _short_hash(str(base.path))
        script = f'#!/bin/sh\nexec "{base.path}" "$@"\n'
        for name in ("python", "python3"):
            launcher = folder / name
            if not launcher.exists() or launcher.read_text(encoding="utf-8") != script:
                atomic_write_text(launcher, script)
                launcher.chmod(0o755)
        return folder

    # -- python_env ---------------------------------------------------------------------------

    def _build(
        self,
        spec: PythonEnvSpecLike,
        base: BasePython,
        target: Path,
        on_line: EventSink,
        on_progress: EventSink,
    ) -> PythonEnvironment:
        # Built in place, not in a temp folder renamed at the end: pip writes the venv's absolute
        # path into every console script it installs, so a renamed venv has broken scripts.
        # The marker file, written last, is what tells a finished environment from a half one.
        if target.exists():
            on_line(
                LogLine(
                    source="pip", stream="client", text="Removing an unfinished environment.", level="warning"
                )
            )
            _remove_tree(target)
        steps: list[tuple[str, list[str] | None]] = [("Creating the Python environment", None)]
        if spec.build_dependencies:
            steps.append(("Installing build dependencies", list(spec.build_dependencies)))
        if spec.dependencies:
            steps.append(("Installing dependencies", list(spec.dependencies)))
        try:
            for index, (label, requirements) in enumerate(steps, start=1):
                self._check_cancelled()
                on_progress(EnvironmentBuildStep(index=index, total=len(steps), label=label))
                if requirements is None:
                    self._create_venv(base, target, on_line)
                else:
                    self._pip_install(target, requirements, on_line)
            self._check_cancelled()
            marker = {
                "base_python": str(base.path),
                "identity": base.identity,
                "name": spec.name,
                "build_dependencies": list(spec.build_dependencies),
                "dependencies": list(spec.dependencies),
                "built_at": time.time(),
            }
            atomic_write_text(target / COMPLETE_MARKER, json.dumps(marker, indent=2))
        except BaseException:
            _remove_tree(target)
            raise
        return _venv_environment(target)

    def _check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise EnvironmentBuildCancelled("Building the Python environment was cancelled.")

    def _create_venv(self, base: BasePython, target: Path, on_line: EventSink) -> None:
        lines, code = self._stream([str(base.path), "-m", "venv", str(target)], on_line)
        self._check_cancelled()
        if code != 0 and (mentions_disk_full(lines) or low_on_space(target)):
            raise DiskFull("the package's Python environment", target)
        if code != 0:
            tail = " ".join(line.strip() for line in lines[-3:])
            raise EnvironmentBuildFailed(
                f"Could not create a Python environment with {base.path} (exit code {code}). {tail}".strip(),
                "On Debian or Ubuntu install the python3-venv package, or choose another "
                "interpreter in the profile settings.",
            )

    def _pip_install(self, target: Path, requirements: list[str], on_line: EventSink) -> None:
        fd, req_name = tempfile.mkstemp(prefix="requirements.", suffix=".txt")
        req_file = Path(req_name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write("\n".join(requirements) + "\n")
            argv = [
                str(venv_python(target)),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-r",
                str(req_file),
            ]
            lines, code = self._stream(argv, on_line)
        finally:
            req_file.unlink(missing_ok=True)
        self._check_cancelled()
        if code != 0 and (mentions_disk_full(lines) or low_on_space(target)):
            raise DiskFull("the package's Python environment", target)
        if code != 0:
            raise explain_pip_failure(lines, requirements)

    def _stream(self, argv: list[str], on_line: EventSink) -> tuple[list[str], int]:
        """Run ``argv``, passing each output line to ``on_line``; returns (pip's ERROR lines, or
        else the last few lines; exit code).

        stderr is merged into stdout, so one pipe is read by this thread alone: no deadlock.
        """
        env = dict(os.environ, PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONUNBUFFERED="1")
        env.pop("PYTHONHOME", None)
        env.pop("VIRTUAL_ENV", None)
        errors: collections.deque[str] = collections.deque(maxlen=50)
        tail: collections.deque[str] = collections.deque(maxlen=5)
        try:
            proc = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                **new_group_popen_kwargs(),
            )
        except OSError as exc:
            raise EnvironmentBuildFailed(f"Could not start {argv[0]} ({exc}).") from None
        with self._lock:
            self._current = proc
        try:
            stdout = proc.stdout
            assert stdout is not None
            for raw in iter(lambda: stdout.readline(65536), b""):
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                is_error = text.lstrip().startswith("ERROR:")
                on_line(
                    LogLine(source="pip", stream="stdout", text=text, level="error" if is_error else "info")
                )
                (errors if is_error else tail).append(text)
            return list(errors or tail), proc.wait()
        finally:
            with self._lock:
                self._current = None
            if proc.poll() is None:
                terminate_tree(proc.pid, grace_seconds=3)
            if proc.stdout is not None:
                proc.stdout.close()


def venv_python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if IS_WINDOWS else "bin/python")


def is_complete(env_dir: Path) -> bool:
    """True for an environment whose build finished (marker present, interpreter present)."""
    return (env_dir / COMPLETE_MARKER).is_file() and venv_python(env_dir).exists()


def _venv_environment(env_dir: Path) -> PythonEnvironment:
    python = venv_python(env_dir)
    return PythonEnvironment(python=python, bin_dir=python.parent, variables={"VIRTUAL_ENV": str(env_dir)})


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _drop(event: Event) -> None:
    """Default sink: nobody listens."""


class _BuildLock:
    """An exclusive lock file, so the GUI and ``fedgui preview`` never build the same env at once."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._handle: Any = None

    def __enter__(self) -> _BuildLock:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self._path, "a+b")  # held open: the lock lives as long as the file
        if sys.platform == "win32":  # not IS_WINDOWS: the type checker knows this test
            import msvcrt

            while True:
                try:
                    msvcrt.locking(self._handle.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    time.sleep(0.5)
        else:
            import fcntl

            fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info: object) -> None:
        with contextlib.suppress(OSError):
            if sys.platform == "win32":
                import msvcrt

                self._handle.seek(0)
                msvcrt.locking(self._handle.fileno(), msvcrt.LK_UNLCK, 1)
            else:
                import fcntl

                fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
        self._handle.close()

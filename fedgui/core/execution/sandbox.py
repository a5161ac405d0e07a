"""Run a compute package's entry points isolated: no network, and only the files they need.

An approved package still is someone else's code running on the data provider's computer. This
module turns "your data stays on this computer" from a promise into a rule the operating system
enforces, and says in one plain sentence (:func:`describe`) what is enforced here.

- **Linux**: bubblewrap (``bwrap``). A new network namespace (nothing in it but its own
  loopback, which reaches nothing on this computer), a new PID namespace (every process the step
  started dies with it), and a file system made only of: the system folders the interpreter needs
  and the package's Python (read-only), the package folder (read-only), the data folder
  (read-only), the folders the person allowed (read-only), the task's own folder (writable), a
  private ``/tmp`` and ``/dev``, and the GPU device nodes the profile allows. The person's home,
  other users' files and the rest of the machine are simply not there. The environment is
  cleared down to what an entry point needs.
- **macOS**: ``sandbox-exec`` with a profile that denies the network. Files are not limited.
  This code path is not tested (no macOS host here).
- **Windows**: nothing yet; the plan is in ``docs/sandbox.md``.

Building a ``python_env`` needs pip and the internet; it runs before, outside the sandbox.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fedgui.core.errors import FedguiError
from fedgui.core.execution.environment import PythonEnvironment
from fedgui.core.package.permissions import NO_EXTRA_PERMISSIONS, PackagePermissions

BWRAP = "bwrap"
SANDBOX_EXEC = "/usr/bin/sandbox-exec"

#: Folders an interpreter and the shell need (read-only). On merged-/usr systems most of these are
#: symlinks into /usr, and are recreated as the same symlinks inside the sandbox.
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: Single entries of /etc that programs read; never all of /etc (it holds password hashes). Few:
#: every mount is part of each step's start-up time.
ETC_ENTRIES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "localtime",
    "nsswitch.conf",
    "fonts",
)
#: Only useful (and only bound) when the person allowed network access: name resolution, TLS roots.
NETWORK_ETC_ENTRIES = (
    "resolv.conf",
    "hosts",
    "host.conf",
    "gai.conf",
    "services",
    "ssl",
    "ca-certificates",
    "pki",
)

#: Variables an entry point gets inside the sandbox (besides the profile's own): everything else
#: in the app's environment (desktop session, SSH agent, XDG folders, proxies…) is left out.
KEPT_NAMES = frozenset(
    {
        "PATH",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TERM",
        "USER",
        "LOGNAME",
        "VIRTUAL_ENV",
        "PYTHONUNBUFFERED",
        "PYTHONIOENCODING",
        "PYTHONHASHSEED",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONWARNINGS",
    }
)
KEPT_PREFIXES = ("LC_", "FEDN_", "CUDA_", "NVIDIA_", "OMP_", "MKL_", "OPENBLAS_")

#: The sandbox's home and temp folder: a private, empty tmpfs that disappears with the step.
SANDBOX_HOME = "/tmp"

_NVIDIA_CONTROL_NODES = ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset")
_NVIDIA_GPU_NODE = re.compile(r"^nvidia(\d+)$")


# ---------------------------------------------------------------------------------------------
# What this computer can do


@dataclass(frozen=True)
class IsolationSupport:
    """How this computer isolates entry points: ``method`` is "bwrap", "sandbox-exec" or "none"."""

    method: str
    executable: str | None = None
    #: Why there is no isolation, in plain words ("" when there is).
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.method != "none"

    @property
    def limits_files(self) -> bool:
        return self.method == "bwrap"

    @property
    def ends_leftovers(self) -> bool:
        """The step runs in a PID namespace of its own, whose every process the kernel ends when
        the step exits (or when bwrap is killed): nothing it starts can outlive it."""
        return self.method == "bwrap"


def detect_isolation(search_path: str | None = None) -> IsolationSupport:
    """What isolation works here; ``search_path`` is the PATH to look in (default: ours)."""
    if sys.platform.startswith("linux"):
        found = shutil.which(BWRAP, path=search_path if search_path is not None else os.environ.get("PATH"))
        if found is None:
            return IsolationSupport(
                "none",
                reason="bubblewrap (the program that isolates packages) is not installed on this computer.",
            )
        problem = _bwrap_problem(found)
        if problem:
            return IsolationSupport("none", found, problem)
        return IsolationSupport("bwrap", found)
    if sys.platform == "darwin" and Path(SANDBOX_EXEC).exists():
        return IsolationSupport("sandbox-exec", SANDBOX_EXEC)
    return IsolationSupport("none", reason="fedgui cannot isolate packages on this operating system yet.")


@functools.lru_cache(maxsize=8)
def _bwrap_problem(executable: str) -> str:
    """ "" if bwrap can make the namespaces we need here; else why not (checked once per path).

    As a normal user bwrap needs user namespaces, which some systems switch off
    (``kernel.unprivileged_userns_clone=0``, AppArmor restrictions on Ubuntu 24.04)."""
    probe = [executable, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"]
    try:
        completed = subprocess.run(
            probe, capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap could not be started ({exc})."
    if completed.returncode != 0:
        detail = completed.stderr.strip().splitlines()[-1:] or ["no message"]
        return (
            "this computer does not allow programs to isolate other programs "
            f"(user namespaces are switched off: {detail[0]})."
        )
    return ""


# ---------------------------------------------------------------------------------------------
# What one package may see


@dataclass(frozen=True)
class SandboxPolicy:
    """What entry points of one package may see and do."""

    package_root: Path
    #: Folders that hold the interpreter, its standard library and the package's venv.
    interpreter_folders: tuple[Path, ...]
    data_folder: Path | None = None
    permissions: PackagePermissions = NO_EXTRA_PERMISSIONS
    #: The profile's GPU choice: "auto" (all GPUs), "none", or a device index such as "0".
    gpu: str = "auto"
    #: Variable names the profile sets itself; they pass even though they are not in KEPT_NAMES.
    own_variables: frozenset[str] = field(default_factory=frozenset)


def interpreter_folders(environment: PythonEnvironment) -> tuple[Path, ...]:
    """The folders the environment's ``python`` needs to start and import its standard library.

    A venv's ``python`` is a symlink to a base interpreter elsewhere (``/usr/bin/python3.11``, or
    ``~/.pyenv/versions/3.11.7/bin/python3.11``): the venv folder, the launchers, and the base
    installation's prefix (found through the symlinks and the venv's ``pyvenv.cfg``) are all
    needed, read-only."""
    folders: list[Path] = [*environment.extra_path, environment.bin_dir]
    for python in (environment.python, environment.bin_dir / "python"):
        if not python.exists():
            continue
        venv = python.parent.parent
        if (venv / "pyvenv.cfg").is_file():
            folders.append(venv)
            home = _pyvenv_home(venv / "pyvenv.cfg")
            if home is not None:
                folders.append(_prefix_of(home))
        folders.append(_prefix_of(python.resolve().parent))
    if "VIRTUAL_ENV" in environment.variables:
        folders.append(Path(environment.variables["VIRTUAL_ENV"]))
    home = Path.home().resolve()
    found = _dedupe(folder.resolve() for folder in folders if folder.exists())
    # A Python in ~/bin has the home folder as its "prefix": never open the home (or "/") that way;
    # bind its bin folder only (its lib folder, if any, beside it).
    safe = []
    for folder in found:
        if home.is_relative_to(folder):
            safe += [folder / "bin", folder / "lib"] if folder != Path(folder.anchor) else []
        else:
            safe.append(folder)
    return tuple(_dedupe(f for f in safe if f.exists() and not home.is_relative_to(f)))


def _pyvenv_home(config: Path) -> Path | None:
    try:
        for line in config.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home" and value.strip():
                return Path(value.strip()).resolve()
    except OSError:
        return None
    return None


def _prefix_of(bin_dir: Path) -> Path:
    """``/x/bin`` → ``/x`` (an installation's prefix holds its lib/ beside bin/)."""
    return bin_dir.parent if bin_dir.name in ("bin", "Scripts") else bin_dir


def _dedupe(paths: Iterable[Path]) -> list[Path]:
    seen: list[Path] = []
    for path in paths:
        if path not in seen:
            seen.append(path)
    return seen


def task_folders(args: Sequence[str]) -> tuple[Path, ...]:
    """The folders of the files an entry point is given (the model in, the model out, the
    metrics file): the only places it may write. For ``train`` FEDn's ``<in>-metadata`` is there too."""
    folders = [Path(arg).parent for arg in args if os.path.isabs(arg)]
    return tuple(_dedupe(folder for folder in folders if folder.is_dir()))


# ---------------------------------------------------------------------------------------------
# The command


class Sandbox:
    """Wraps entry point commands for one package; :meth:`wrap` is called for every step."""

    def __init__(self, policy: SandboxPolicy, support: IsolationSupport) -> None:
        if not support.available:
            raise ValueError("no isolation is available here; run the command without a Sandbox")
        self.policy = policy
        self.support = support

    def wrap(
        self, argv: Sequence[str], environ: Mapping[str, str], writable: Sequence[Path] = ()
    ) -> tuple[list[str], dict[str, str]]:
        """The isolated command and its cleared environment for ``argv`` (run in the package folder)."""
        clean = sandbox_environ(environ, self.policy.own_variables)
        writable = [folder for folder in writable if self.may_write(folder)]
        if self.support.method == "bwrap":
            assert self.support.executable is not None
            return [self.support.executable, *bwrap_arguments(self.policy, writable), *argv], clean
        return sandbox_exec_argv(self.policy, argv), clean

    @property
    def ends_leftovers(self) -> bool:
        """True when nothing a step starts can outlive it here (see IsolationSupport)."""
        return self.support.ends_leftovers

    def may_write(self, folder: Path) -> bool:
        """A task folder is writable, never a folder that holds the person's home, the package,
        the data or the system: an argument such as ``/home/anna/x`` must not open ``/home/anna``."""
        folder = Path(folder).resolve()
        protected = [Path.home(), self.policy.package_root, *self.policy.interpreter_folders]
        if self.policy.data_folder is not None:
            protected.append(self.policy.data_folder)
        if folder == Path(folder.anchor) or _inside_system_folders(folder):
            return False
        return not any(Path(p).resolve().is_relative_to(folder) for p in protected)


def sandbox_environ(environ: Mapping[str, str], own_variables: Iterable[str] = ()) -> dict[str, str]:
    """Only the variables an entry point needs; home and temp are the sandbox's private /tmp."""
    own = set(own_variables)
    kept = {
        name: value
        for name, value in environ.items()
        if name in KEPT_NAMES or name in own or name.startswith(KEPT_PREFIXES)
    }
    kept["HOME"] = SANDBOX_HOME
    kept["TMPDIR"] = SANDBOX_HOME
    return kept


def bwrap_arguments(policy: SandboxPolicy, writable: Sequence[Path] = ()) -> list[str]:
    """bwrap's options (everything before the command) for ``policy``."""
    args = ["--unshare-all"]
    if policy.permissions.network:
        args.append("--share-net")
    # --die-with-parent: if fedgui dies, the step dies too. The PID namespace ends every process
    # the step started (daemons included) the moment the step itself exits.
    args += ["--die-with-parent", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for folder in SYSTEM_FOLDERS:
        path = Path(folder)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), folder]
        elif path.is_dir():
            args += ["--ro-bind", folder, folder]
    etc = ETC_ENTRIES + (NETWORK_ETC_ENTRIES if policy.permissions.network else ())
    for name in etc:
        entry = Path("/etc") / name
        if entry.exists():
            # A symlink (resolv.conf → /run/…) is bound as its target, at its own name.
            args += ["--ro-bind", str(entry.resolve()), str(entry)]
    binds: list[tuple[str, Path]] = [("--ro-bind", folder) for folder in policy.interpreter_folders]
    binds.append(("--ro-bind", policy.package_root))
    if policy.data_folder is not None:
        binds.append(("--ro-bind", policy.data_folder))
    binds += [("--ro-bind", folder) for folder in policy.permissions.read_folders]
    binds = _without_nested_read_only(binds)
    binds += [("--bind", folder) for folder in writable]
    # Parents before children: a writable task folder inside a read-only folder must be mounted last.
    for option, target in sorted(binds, key=lambda bind: (len(bind[1].absolute().parts), bind[0])):
        if target.exists() and not (option == "--ro-bind" and _inside_system_folders(target)):
            args += [option, str(target.resolve()), str(target.absolute())]
    args += _gpu_arguments(policy.gpu)
    # The folders bwrap made to mount things on (the parents of the data folder…) live in the
    # sandbox's own root; read-only, so "next to the data folder" cannot be written either.
    args += ["--remount-ro", "/", "--chdir", str(policy.package_root.absolute())]
    return args


def _without_nested_read_only(binds: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    """Drop a read-only folder already visible through a read-only parent (a venv's ``bin`` inside
    the venv): one mount less at every step's start."""
    plain = [folder for _option, folder in binds if folder.exists() and folder.resolve() == folder.absolute()]
    return [
        (option, folder)
        for option, folder in binds
        if not any(folder != parent and folder.absolute().is_relative_to(parent) for parent in plain)
    ]


def _inside_system_folders(folder: Path) -> bool:
    """Already visible read-only (``/usr`` for Debian's Python): no second mount needed."""
    resolved = folder.resolve()
    return any(resolved.is_relative_to(Path(system).resolve()) for system in SYSTEM_FOLDERS)


def gpu_device_nodes(gpu: str, dev: Path = Path("/dev")) -> list[Path]:
    """The device nodes for the profile's GPU choice ("none": none at all)."""
    if gpu == "none" or not dev.is_dir():
        return []
    nodes: list[Path] = []
    for entry in sorted(dev.iterdir()):
        match = _NVIDIA_GPU_NODE.match(entry.name)
        if entry.name in _NVIDIA_CONTROL_NODES or (match and gpu in ("", "auto", match.group(1))):
            nodes.append(entry)
    render = dev / "dri"
    if render.is_dir():  # AMD/Intel (ROCm, oneAPI) use the DRM nodes
        nodes += sorted(render.iterdir())
    return nodes


def _gpu_arguments(gpu: str) -> list[str]:
    nodes = gpu_device_nodes(gpu)
    args: list[str] = []
    for node in nodes:
        args += ["--dev-bind", str(node), str(node)]
    if nodes:  # CUDA reads the driver's version and the PCI topology from these
        for folder in ("/proc/driver/nvidia", "/sys/bus/pci", "/sys/devices", "/sys/module/nvidia"):
            if Path(folder).exists():
                args += ["--ro-bind", folder, folder]
    return args


def sandbox_exec_profile(policy: SandboxPolicy) -> str:
    """macOS Seatbelt profile: everything as before, except any network use. Untested here."""
    rules = ["(version 1)", "(allow default)"]
    if not policy.permissions.network:
        rules.append("(deny network*)")
    return "\n".join(rules)


def sandbox_exec_argv(policy: SandboxPolicy, argv: Sequence[str]) -> list[str]:
    return [SANDBOX_EXEC, "-p", sandbox_exec_profile(policy), *argv]


# ---------------------------------------------------------------------------------------------
# In words


UNISOLATED_WARNING = (
    "This computer cannot isolate the package: it runs with your rights, so it could use the "
    "network and read your files."
)


def describe(
    support: IsolationSupport,
    permissions: PackagePermissions = NO_EXTRA_PERMISSIONS,
    has_data_folder: bool = True,
) -> str:
    """One plain sentence on what applies to the package, for the review and the overview."""
    if not support.available:
        return UNISOLATED_WARNING
    network = (
        "Runs with network access (you allowed it for this version)"
        if permissions.network
        else "Runs without network access"
    )
    if not support.limits_files:
        return f"{network}; it can read your files (this computer does not limit that yet)."
    what = "your data folder" if has_data_folder else "its own files"
    extra = len(permissions.read_folders)
    if extra:
        more = "1 more folder" if extra == 1 else f"{extra} more folders"
        return f"{network}; can read only {what} and {more} you chose."
    return f"{network}; can read only {what}."


def describe_for_profile(
    profile: Any, checksum: str | None = None, support: IsolationSupport | None = None
) -> str:
    """The sentence for a connection profile's package (``checksum``, default the last one it
    approved): what the overview shows. ``profile`` is a :class:`fedgui.core.profile.Profile`."""
    support = support or detect_isolation()
    checksum = checksum or profile.last_approved_checksum or ""
    if not support.available and profile.run_unisolated_agreed:
        return UNISOLATED_WARNING + " You agreed to that for this connection."
    return describe(support, profile.permissions_for(checksum), profile.data_folder is not None)


class IsolationUnavailable(FedguiError):
    """Nothing runs on a computer that cannot isolate packages until the person agrees to it."""

    default_next_step = (
        "Install bubblewrap (Debian/Ubuntu: sudo apt install bubblewrap) and try again, or agree "
        "to run packages with your rights if you trust this network's code."
    )

    def __init__(self, support: IsolationSupport, next_step: str | None = None) -> None:
        reason = f" ({support.reason})" if support.reason else ""
        super().__init__(f"{UNISOLATED_WARNING}{reason} Nothing was run.", next_step)
        self.support = support


def make_sandbox(
    environment: PythonEnvironment,
    package_root: Path,
    data_folder: Path | None,
    permissions: PackagePermissions = NO_EXTRA_PERMISSIONS,
    gpu: str = "auto",
    own_variables: Iterable[str] = (),
    support: IsolationSupport | None = None,
) -> Sandbox | None:
    """The sandbox for a package's entry points, or None where this computer cannot isolate."""
    support = support or detect_isolation()
    if not support.available:
        return None
    policy = SandboxPolicy(
        package_root=Path(package_root),
        interpreter_folders=interpreter_folders(environment),
        data_folder=Path(data_folder) if data_folder is not None else None,
        permissions=permissions,
        gpu=gpu,
        own_variables=frozenset(own_variables),
    )
    return Sandbox(policy, support)


__all__ = [
    "UNISOLATED_WARNING",
    "IsolationSupport",
    "IsolationUnavailable",
    "Sandbox",
    "SandboxPolicy",
    "bwrap_arguments",
    "describe",
    "describe_for_profile",
    "detect_isolation",
    "gpu_device_nodes",
    "interpreter_folders",
    "make_sandbox",
    "sandbox_environ",
    "task_folders",
]

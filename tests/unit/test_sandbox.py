"""The sandbox's command, environment and plain-words summary; real bwrap processes where it runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fedgui.core.execution.environment import EnvironmentBuilder, resolve_base_python_info
from fedgui.core.execution.runner import EntryPointRunner
from fedgui.core.execution.sandbox import (
    SANDBOX_HOME,
    UNISOLATED_WARNING,
    IsolationSupport,
    Sandbox,
    SandboxPolicy,
    bwrap_arguments,
    describe,
    describe_for_profile,
    detect_isolation,
    gpu_device_nodes,
    interpreter_folders,
    make_sandbox,
    sandbox_environ,
    sandbox_exec_profile,
    task_folders,
)
from fedgui.core.package.permissions import PackagePermissions
from fedgui.core.profile import Profile, ProfileStore

BWRAP = IsolationSupport("bwrap", "/usr/bin/bwrap")
NONE = IsolationSupport("none", reason="bubblewrap is not installed on this computer.")
needs_bwrap = pytest.mark.skipif(not detect_isolation().available, reason="bubblewrap is needed")


def _pairs(args: list[str], option: str) -> list[tuple[str, str]]:
    return [(args[i + 1], args[i + 2]) for i, arg in enumerate(args) if arg == option]


def test_bwrap_arguments_no_network_read_only_inputs_writable_task_folder(tmp_path):
    package, data, task = tmp_path / "pkg", tmp_path / "data", tmp_path / "task"
    for folder in (package, data, task):
        folder.mkdir()
    policy = SandboxPolicy(package_root=package, interpreter_folders=(), data_folder=data, gpu="none")
    args = bwrap_arguments(policy, [task])
    assert "--unshare-all" in args and "--share-net" not in args
    assert "--die-with-parent" in args
    assert (str(package), str(package)) in _pairs(args, "--ro-bind")
    assert (str(data), str(data)) in _pairs(args, "--ro-bind")
    assert _pairs(args, "--bind") == [(str(task), str(task))]
    assert args[args.index("--tmpfs") + 1] == "/tmp"
    assert not any(dest == "/etc" or dest == str(Path.home()) for _src, dest in _pairs(args, "--ro-bind"))
    assert "/etc/shadow" not in args and "/etc/resolv.conf" not in args
    # No mount for what a read-only parent already shows (fewer mounts: a faster start).
    nested = SandboxPolicy(package, (tmp_path, tmp_path / "pkg"), data_folder=data)
    assert [
        dest for _src, dest in _pairs(bwrap_arguments(nested), "--ro-bind") if dest.startswith(str(tmp_path))
    ] == [str(tmp_path)]
    assert args[-2:] == ["--chdir", str(package)]


def test_network_and_extra_folders_only_when_allowed(tmp_path):
    extra = tmp_path / "weights"
    extra.mkdir()
    allowed = PackagePermissions(network=True, read_folders=(extra,))
    package = tmp_path / "pkg"
    package.mkdir()
    policy = SandboxPolicy(package_root=package, interpreter_folders=(), permissions=allowed)
    args = bwrap_arguments(policy)
    assert "--share-net" in args
    assert (str(extra), str(extra)) in _pairs(args, "--ro-bind")


def test_environment_is_cleared_to_what_an_entry_point_needs():
    environ = {
        "PATH": "/env/bin:/usr/bin",
        "HOME": "/home/anna",
        "SSH_AUTH_SOCK": "/run/user/1000/ssh",
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus",
        "FEDN_DATA_PATH": "/data",
        "OMP_NUM_THREADS": "2",
        "DATASET": "site-a",
        "LC_ALL": "C.UTF-8",
        "http_proxy": "http://proxy:3128",
    }
    clean = sandbox_environ(environ, own_variables={"DATASET"})
    assert clean == {
        "PATH": "/env/bin:/usr/bin",
        "FEDN_DATA_PATH": "/data",
        "OMP_NUM_THREADS": "2",
        "DATASET": "site-a",
        "LC_ALL": "C.UTF-8",
        "HOME": SANDBOX_HOME,
        "TMPDIR": SANDBOX_HOME,
    }


def test_gpu_nodes_follow_the_profile(tmp_path):
    for name in ("nvidia0", "nvidia1", "nvidiactl", "null"):
        (tmp_path / name).touch()
    assert gpu_device_nodes("none", tmp_path) == []
    assert [p.name for p in gpu_device_nodes("auto", tmp_path)] == ["nvidia0", "nvidia1", "nvidiactl"]
    assert [p.name for p in gpu_device_nodes("1", tmp_path)] == ["nvidia1", "nvidiactl"]


def test_task_folders_are_the_folders_of_the_files_given(tmp_path):
    (tmp_path / "task").mkdir()
    args = [str(tmp_path / "task" / "in.npz"), str(tmp_path / "task" / "out.npz"), "relative.json"]
    assert task_folders(args) == (tmp_path / "task",)


def test_a_path_argument_never_opens_home_data_or_the_system_for_writing(tmp_path):
    data, task = tmp_path / "data", tmp_path / "data-task"
    data.mkdir(), task.mkdir()
    sandbox = Sandbox(SandboxPolicy(tmp_path / "pkg", (), data_folder=data), BWRAP)
    assert sandbox.may_write(task)
    for folder in (Path("/"), Path.home(), Path.home().parent, Path("/usr/lib"), tmp_path, data):
        assert not sandbox.may_write(folder), folder
    argv, _env = sandbox.wrap(["true"], {}, [Path("/"), Path.home(), task])
    assert _pairs(argv, "--bind") == [(str(task), str(task))]


def test_the_summary_in_plain_words():
    assert describe(BWRAP) == "Runs without network access; can read only your data folder."
    folders = PackagePermissions(network=True, read_folders=(Path("/a"), Path("/b")))
    assert describe(BWRAP, folders) == (
        "Runs with network access (you allowed it for this version); "
        "can read only your data folder and 2 more folders you chose."
    )
    assert describe(NONE) == UNISOLATED_WARNING
    assert UNISOLATED_WARNING.startswith("This computer cannot isolate the package: it runs with your rights")
    mac = IsolationSupport("sandbox-exec", "/usr/bin/sandbox-exec")
    assert describe(mac).startswith("Runs without network access; it can read your files")


def test_macos_profile_denies_the_network_unless_allowed(tmp_path):
    policy = SandboxPolicy(package_root=tmp_path, interpreter_folders=())
    assert "(deny network*)" in sandbox_exec_profile(policy)
    allowed = SandboxPolicy(tmp_path, (), permissions=PackagePermissions(network=True))
    assert "(deny network*)" not in sandbox_exec_profile(allowed)


def test_permissions_belong_to_one_version_and_survive_the_profile_file(tmp_path):
    store = ProfileStore(tmp_path)
    profile = Profile.new("Site", "http://localhost:8092")
    allowed = PackagePermissions(network=True, read_folders=(Path("/srv/weights"),))
    profile.approve("a" * 64, allowed)
    profile.approve("b" * 64)
    store.save(profile)
    loaded = store.get(profile.id)
    assert loaded.permissions_for("A" * 64) == allowed
    assert loaded.permissions_for("b" * 64) == PackagePermissions()  # a new version: nothing
    assert not loaded.run_unisolated_agreed
    # No data folder chosen yet: "its own files".
    assert (
        describe_for_profile(loaded, "b" * 64, BWRAP)
        == "Runs without network access; can read only its own files."
    )
    assert describe_for_profile(loaded, "a" * 64, BWRAP).startswith("Runs with network access")


def test_no_sandbox_where_nothing_can_isolate(tmp_path):
    environment = EnvironmentBuilder(tmp_path / "envs").ensure(None, sys.executable)
    assert make_sandbox(environment, tmp_path, None, support=NONE) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="bubblewrap is Linux's")
def test_missing_bwrap_on_path_means_no_isolation(tmp_path):
    support = detect_isolation(search_path=str(tmp_path))
    assert not support.available and "bubblewrap" in support.reason


def test_interpreter_folders_cover_a_venv_and_its_base(tmp_path):
    base = resolve_base_python_info()
    environment = EnvironmentBuilder(tmp_path / "envs").ensure(None, base)
    folders = interpreter_folders(environment)
    prefix = Path(os.path.realpath(base.path)).parent.parent
    assert prefix in folders or any(prefix.is_relative_to(f) for f in folders)


def test_a_python_in_the_home_folder_never_opens_the_home(tmp_path, monkeypatch):
    home = tmp_path / "anna"
    (home / "bin").mkdir(parents=True)
    (home / "secret.txt").write_text("x")
    python = home / "bin" / "python3"
    python.symlink_to(sys.executable)
    monkeypatch.setenv("HOME", str(home))
    from fedgui.core.execution.environment import PythonEnvironment

    folders = interpreter_folders(PythonEnvironment(python=python, bin_dir=home / "bin"))
    assert home.resolve() not in folders and home / "bin" in folders


@needs_bwrap
def test_the_sandboxed_interpreter_runs_and_sees_only_what_it_was_given(tmp_path):
    """A real bwrap process with the interpreter that runs packages here (a venv whose python
    links to a base installation elsewhere)."""
    package, data, task = tmp_path / "pkg", tmp_path / "data", tmp_path / "task"
    for folder in (package, data, task):
        folder.mkdir()
    (package / "probe.py").write_text(
        "import json, os, sys\n"
        "def can_write(p):\n"
        "    try:\n"
        "        open(p, 'w').close(); return True\n"
        "    except OSError:\n"
        "        return False\n"
        "home = sys.argv[2]\n"
        "print(json.dumps({'home': sorted(os.listdir(home)) if os.path.isdir(home) else [],\n"
        "  'data': os.listdir(os.environ['FEDN_DATA_PATH']), 'write_task': can_write(sys.argv[1]),\n"
        "  'write_package': can_write('x.txt'), 'pid': os.getpid()}))\n"
    )
    (data / "rows.csv").write_text("1\n")
    environment = EnvironmentBuilder(tmp_path / "envs").ensure(None, resolve_base_python_info())
    sandbox = make_sandbox(environment, package, data)
    lines: list[str] = []
    runner = EntryPointRunner(
        package,
        {"probe": "python probe.py"},
        environment,
        data,
        sink=lambda event: lines.append(getattr(event, "text", "")),
        sandbox=sandbox,
    )
    home = Path.home()
    runner.run("probe", [str(task / "out.txt"), str(home)])

    seen = json.loads(next(line for line in lines if line.startswith("{")))
    # Of the home folder only the way to what was mounted exists (e.g. a pyenv interpreter).
    mounted = [*sandbox.policy.interpreter_folders, package, data, task]
    way_there = {f.relative_to(home).parts[0] for f in mounted if f.is_relative_to(home) and f != home}
    assert set(seen.pop("home")) <= way_there
    assert seen == {"data": ["rows.csv"], "write_task": True, "write_package": False, "pid": 2}
    assert (task / "out.txt").exists() and not (package / "x.txt").exists()


@needs_bwrap
def test_bwrap_runs_as_a_normal_user_too(tmp_path):
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root to switch to a normal user")
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    done = subprocess.run(
        [*nobody, "bwrap", "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "id", "-u"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout.strip() == "65534", done.stderr

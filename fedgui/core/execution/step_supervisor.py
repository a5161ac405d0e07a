"""Watch one entry-point step and end every process it started (run as a script; stdlib only).

    python -I -S step_supervisor.py GRACE_SECONDS REPORT_PREFIX -- ARGV...

The runner starts this script, which starts ``ARGV`` (the step) and waits for it. Processes a
step starts may leave its process group and session (``setsid cmd &``, ``start_new_session``,
a double-forked daemon) and keep our output pipes open, so a process-group kill is not enough:

- On Linux the script makes itself a *child subreaper* (``PR_SET_CHILD_SUBREAPER``): every
  process of the step that loses its parent is re-parented here instead of to init, so all of
  them stay its descendants, whatever session or group they moved to. It also asks to receive
  SIGTERM when fedgui dies (``PR_SET_PDEATHSIG``), so a killed fedgui leaves nothing running.
- Elsewhere (macOS, BSD) there is no subreaper: descendants still attached to the tree and the
  members of the process group are ended; a process that both left the group and lost its parent
  escapes. (Windows does not use this script.)

When the step exits, what it left running is asked to stop (SIGTERM), killed after
``GRACE_SECONDS`` and reaped; then the script exits with the step's exit code (or dies of the
same signal). On SIGTERM/SIGINT/SIGHUP (cancel, time limit, fedgui stopping) it does the same
with the step itself included. Its own messages go to stderr, each line starting with
``REPORT_PREFIX`` so the runner can tell them from the step's output.

Python 3.9 syntax: it runs under the package's interpreter, which may be older than fedgui's.
"""

import os
import sys
import time

TYPE_CHECKING = False  # mypy reads this name as True; importing `typing` would cost start-up time
if TYPE_CHECKING:  # typeshed has no stubs for `_signal`: check against `signal`, its public face
    import signal
else:
    try:  # the C module: `signal` imports `enum`, a third of this script's start-up time
        import _signal as signal
    except ImportError:  # pragma: no cover - another Python implementation
        import signal

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
#: After SIGKILL, how long to keep reaping before giving up on a process stuck in the kernel.
_KILL_WAIT_SECONDS = 3.0


class _Stop(Exception):
    pass


def _on_stop_signal(signum: int, frame: object) -> None:
    raise _Stop


def _become_subreaper(parent: int) -> bool:
    """Linux only: adopt orphaned descendants and die with fedgui. False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        adopted: bool = libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent:  # fedgui died before the death signal was armed
        os.kill(os.getpid(), signal.SIGTERM)
    return adopted


def _process_table() -> dict[int, tuple[int, int, str, str]]:
    """pid → (parent pid, process group, state letter, name) of every process we can see."""
    table = {}
    if os.path.isdir("/proc/self"):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    raw = handle.read().decode("utf-8", "replace")
            except OSError:
                continue
            # "pid (name) state ppid pgrp ...": the name may contain spaces and parentheses.
            name = raw[raw.find("(") + 1 : raw.rfind(")")]
            fields = raw[raw.rfind(")") + 2 :].split()
            table[int(entry)] = (int(fields[1]), int(fields[2]), fields[0], name)
        return table
    import subprocess

    listing = subprocess.run(
        ["ps", "-A", "-o", "pid=", "-o", "ppid=", "-o", "pgid=", "-o", "state=", "-o", "comm="],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    for line in listing.splitlines():
        parts = line.split(None, 4)
        if len(parts) == 5:
            table[int(parts[0])] = (int(parts[1]), int(parts[2]), parts[3][:1], os.path.basename(parts[4]))
    return table


def _living_descendants() -> dict[int, str]:
    """Our living descendants and the other members of our process group: pid → name."""
    me, group = os.getpid(), os.getpgrp()
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _pgid, _state, _name) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    todo = list(children.get(me, []))
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    if group == me:  # only a group of our own: started from a shell, the group is the shell's
        found.update(pid for pid, (_p, pgid, _s, _n) in table.items() if pgid == group)
    found.discard(me)
    return {pid: table[pid][3] for pid in found if pid in table and table[pid][2] not in ("Z", "X")}


def _signal_all(pids: dict[int, str], sig: int) -> None:
    for pid in pids:
        try:  # noqa: SIM105 - contextlib costs start-up time
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _reap() -> None:
    """Collect every exited child (we are the subreaper: orphans end up here)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _has_children() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return False
    return True


def _end_everything(grace: float, subreaper: bool) -> dict[int, str]:
    """SIGTERM every descendant, SIGKILL what is left after ``grace`` seconds; returns what was
    running at the start. Rescans each time: a process may fork while we stop it."""
    _reap()
    if subreaper and not _has_children():
        # Everything the step started is our descendant, so no children means nothing left
        # (the common case, without reading the process table).
        return {}
    for sig in _STOP_SIGNALS:  # our own group gets the signals too; they must not interrupt us
        signal.signal(sig, signal.SIG_IGN)
    ended = _living_descendants()
    _signal_all(ended, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while True:
        _reap()
        alive = _living_descendants()
        if not alive:
            return ended
        ended.update(alive)
        if time.monotonic() >= deadline:
            break
        _signal_all(alive, signal.SIGTERM)  # also reaches processes forked since the first round
        time.sleep(0.05)
    deadline = time.monotonic() + _KILL_WAIT_SECONDS
    while alive and time.monotonic() < deadline:
        _signal_all(alive, signal.SIGKILL)
        time.sleep(0.02)
        _reap()
        alive = _living_descendants()
        ended.update(alive)
    return ended


def _report(prefix: str, text: str) -> None:
    try:  # noqa: SIM105 - contextlib costs start-up time
        os.write(2, f"{prefix}{text}\n".encode("utf-8", "replace"))
    except OSError:
        pass


def _describe(processes: dict[int, str]) -> str:
    names = sorted(processes.items())
    shown = ", ".join(f"{name} ({pid})" for pid, name in names[:8])
    more = f" and {len(names) - 8} more" if len(names) > 8 else ""
    return f"{len(names)} process{'es' if len(names) != 1 else ''}: {shown}{more}"


def _exit_like(status: int) -> None:
    """Exit with the step's exit code, or die of the signal that ended it (so the runner sees
    the same -N as without us)."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
            time.sleep(1)
        except (OSError, ValueError):
            pass
        os._exit(128 + sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def main(argv: list[str]) -> None:
    if len(argv) < 4 or argv[2] != "--":
        _report("", "usage: step_supervisor.py GRACE_SECONDS REPORT_PREFIX -- ARGV...")
        os._exit(2)
    grace, prefix, command = float(argv[0]), argv[1], argv[3:]
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _on_stop_signal)
    stopping = False
    subreaper = False
    try:
        subreaper = _become_subreaper(parent=os.getppid())
        try:
            step = os.posix_spawnp(command[0], command, os.environ)
        except OSError as exc:
            _report(prefix, f"could not start {command[0]}: {exc.strerror or exc}")
            os._exit(127)
        while True:
            pid, status = os.waitpid(-1, 0)
            if pid == step:
                break
    except _Stop:
        stopping = True
        status = 128 + int(signal.SIGTERM)
    ended = _end_everything(grace, subreaper)
    if ended and not stopping:
        _report(prefix, "left-running " + _describe(ended))
    elif ended:
        _report(prefix, "stopped " + _describe(ended))
    if stopping:
        os._exit(128 + int(signal.SIGTERM))
    _exit_like(status)


if __name__ == "__main__":
    main(sys.argv[1:])

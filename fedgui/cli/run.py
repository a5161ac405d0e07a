"""``fedgui run``: take part in a network without a window (servers, remote machines).

The same session engine as the desktop app; events are printed to the console. Ctrl-C or
SIGTERM stops the running entry point, closes the stream and exits 0.
"""

from __future__ import annotations

import argparse
import functools
import re
import shlex
import signal
import sys
import threading
from pathlib import Path

EXIT_OK = 0
EXIT_USAGE = 2  # bad arguments, unknown profile, unreadable client.yaml
EXIT_NEEDS_APPROVAL = 3  # the package must be approved first
EXIT_PROFILE_IN_USE = 4  # another fedgui runs with this profile
#: Stopping never takes longer: the running step gets a few seconds to stop, then it is killed
#: (runner.KILL_GRACE_SECONDS); if something else still blocks after this, fedgui exits anyway.
STOP_SECONDS = 12.0

EPILOG = """\
approval:
  Nothing of the network's compute package runs before it is approved. --approve CHECKSUM
  approves exactly the package with that SHA-256 (the message of exit code 3 shows it, with
  the folder holding its files to look at); the approval is remembered for this profile (or
  this client.yaml), so later starts need no --approve until the network publishes another
  package. A package published while fedgui runs is noticed within about 15 s: the running
  task is finished, and an unapproved package ends the command with code 3.

isolation:
  The package's steps run isolated (Linux, with bubblewrap): no network access; they can read
  only the package, its Python and your data folder, and write only their own task folder.
  Where this computer cannot isolate them (no bubblewrap, or user namespaces switched off),
  nothing runs until you agree with --allow-unisolated (remembered for this profile); until
  then the command ends with code 3 and says so.

identity:
  --config client.yaml keeps one identity per file: if the file has no client_id (or no
  name), fedgui makes one the first time and uses it at every start with the same file, so
  the network sees the same client. Only one fedgui at a time may run with one profile or
  file (the desktop app included); the second one says which process holds it.

exit codes:
  0  stopped by Ctrl-C / SIGTERM (the running entry point and everything it started were
     stopped, the stream closed); within about 12 s, at once on a second Ctrl-C
  2  bad arguments, unknown profile or unreadable configuration file
  3  the network's compute package is not approved: after looking at it, run again with
     --approve CHECKSUM (the message shows the whole command), or approve it in the desktop app
  4  another fedgui already runs with this profile (the message names its process)

Problems that can pass by themselves (the controller or the combiner is down, the token
expired) do not end the command: fedgui waits, reconnects and says so. The technical details
behind a problem (the address it tried, the server's answer) follow it on stderr, indented
under "Details:".
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="take part in the network headless (no window)",
        description="Take part in a FEDn network without a window, printing what happens.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--profile", help="name or id of a saved connection profile")
    source.add_argument("--config", type=Path, help="a FEDn client.yaml to use without saving a profile")
    parser.add_argument("--data", type=Path, help="your local data folder (FEDN_DATA_PATH for the package)")
    parser.add_argument("--name", help="client name (default: from the profile or client.yaml)")
    parser.add_argument(
        "--approve",
        action="append",
        type=_checksum_argument,
        default=[],
        metavar="CHECKSUM",
        help="approve the compute package with this SHA-256 (64 hex digits); may be repeated",
    )
    parser.add_argument(
        "--allow-unisolated",
        action="store_true",
        help="agree to run the package with your rights where this computer cannot isolate it",
    )
    parser.add_argument("--python", help="base Python interpreter for the package's entry points")
    parser.add_argument("--quiet-progress", action="store_true", help="do not print transfer progress")
    parser.set_defaults(handler=run_command)


_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def _checksum_argument(text: str) -> str:
    if not _SHA256.match(text.strip()):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a package checksum: give the whole SHA-256 (64 hexadecimal digits) "
            "that fedgui showed for the package"
        )
    return text.strip().lower()


def run_command(args: argparse.Namespace) -> int:
    from fedgui.core.memory_tuning import tune_allocator

    tune_allocator()  # first, before any thread allocates: keeps memory flat while models move
    from fedgui.cli.console import print_error, send_internal_warnings_to_stderr
    from fedgui.core.errors import FedguiError

    send_internal_warnings_to_stderr()
    try:
        profile, token_source, store = _load(args)
    except FedguiError as exc:
        print_error(exc)
        return EXIT_USAGE
    return _run_session(profile, token_source, store, args)


def _load(args: argparse.Namespace):
    from fedgui.cli.console import print_stamped
    from fedgui.core.clientconfig import GENERATED_CLIENT_ID_NOTE, ClientConfigError, import_client_config
    from fedgui.core.config_profiles import profile_for_config
    from fedgui.core.profile import Profile, ProfileStore
    from fedgui.core.secrets import SecretStore

    if args.profile:
        store = ProfileStore()
        profile = store.get(args.profile)
        secrets = SecretStore()

        # No token is fine for a network without auth; a network with auth answers "token
        # rejected" and the session waits for one to appear in the keyring.
        def token_source() -> str | None:  # re-read each time: a new token may be stored
            return secrets.get_token(profile.id)
    else:
        imported = import_client_config(args.config)
        kept = profile_for_config(imported, args.config)
        store = kept.store
        for note in [n for n in imported.notes if n != GENERATED_CLIENT_ID_NOTE] + kept.notes:
            print_stamped(f"fedgui: note: {note}")
        if imported.unknown_keys:
            print_stamped(
                f"fedgui: note: {args.config} has keys fedgui does not know and ignores: "
                + ", ".join(imported.unknown_keys)
            )
        profile = kept.profile
        config_path = Path(args.config)

        def token_source() -> str | None:
            # Re-read the file, so that an admin can drop a new token into it while we wait.
            try:
                return import_client_config(config_path).token
            except (ClientConfigError, OSError):  # keep the last good token if the file is mid-edit
                return imported.token

    if args.data:
        profile.data_folder = args.data.resolve()
    if args.name:
        profile.client_name = args.name
    if args.python:
        profile.base_python = args.python
    for checksum in args.approve:
        # Saved before the session starts: the session's gate then finds it approved. Only this
        # exact version: another package is still stopped for review.
        store.update(profile.id, functools.partial(Profile.approve, checksum=checksum))
        profile.approve(checksum)
    return profile, token_source, store


def unisolated_message(support) -> str:
    from fedgui.core.execution.sandbox import UNISOLATED_WARNING

    return (
        f"{UNISOLATED_WARNING} ({support.reason})\nNothing from the package runs until you agree: "
        "install bubblewrap (Debian/Ubuntu: sudo apt install bubblewrap), or, if you trust this "
        "network's code, run again with --allow-unisolated."
    )


def _run_session(profile, token_source, store, args: argparse.Namespace) -> int:
    from fedgui.cli.console import ConsoleRenderer, print_error, print_stamped
    from fedgui.core.events import ReviewNeeded, StateChanged
    from fedgui.core.profile_lock import ProfileInUse
    from fedgui.core.session.engine import Session
    from fedgui.core.session.states import SessionState

    session = Session(profile, token_source, profile_store=store, allow_unisolated=args.allow_unisolated)
    session.bus.subscribe(ConsoleRenderer(show_progress=not args.quiet_progress))
    finished = threading.Event()
    stopping = threading.Event()
    outcome = {"code": EXIT_OK}

    def watch(event) -> None:
        if isinstance(event, ReviewNeeded):
            if not session.isolation.available and event.package.checksum in profile.approved_checksums:
                message = unisolated_message(session.isolation)
            else:
                message = unapproved_message(event.package, args)
            print_stamped(message)
            outcome["code"] = EXIT_NEEDS_APPROVAL
            finished.set()
        if isinstance(event, StateChanged) and isinstance(event.error, ProfileInUse):
            print_error(event.error)
            outcome["code"] = EXIT_PROFILE_IN_USE
            finished.set()
        if isinstance(event, StateChanged) and event.state is SessionState.STOPPED:
            finished.set()

    session.bus.subscribe(watch)

    def on_signal(signum, frame) -> None:
        if finished.is_set() and stopping.is_set():  # asked twice: do not wait any longer
            _exit_now(outcome["code"], "stopping now")
        finished.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        session.start()
        while not finished.wait(0.5):
            pass
    finally:
        stopping.set()
        print_stamped("fedgui: stopping…")
        session.stop_and_wait(timeout=STOP_SECONDS)
        if session.is_running():
            _exit_now(outcome["code"], f"could not stop cleanly within {STOP_SECONDS:.0f} s; exiting anyway")
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return outcome["code"]


def unapproved_message(package, args: argparse.Namespace) -> str:
    """What to do about an unapproved package, with the exact command that approves it."""
    checksum = package.checksum
    other = [c for c in args.approve if c != checksum]
    lines = ["The network's compute package has not been approved on this computer, so nothing from it ran."]
    if other:
        lines.append(
            "It is not the package you approved with --approve: the network now offers another version."
        )
    lines += [
        f"  its SHA-256: {checksum}",
        f"  its files:   {package.root}",
        "Look at its files first (fedn.yaml names the commands it runs). If you trust it, start again with:",
        "  " + approve_command(args, checksum),
        "or approve it in the desktop app.",
    ]
    return "\n".join(lines)


def approve_command(args: argparse.Namespace, checksum: str) -> str:
    """The command line the person ran, with ``--approve <checksum>`` instead of any other."""
    argv = ["fedgui", "run"]
    if args.profile:
        argv += ["--profile", args.profile]
    else:
        argv += ["--config", str(Path(args.config).resolve())]
    if args.data:
        argv += ["--data", str(Path(args.data).resolve())]
    if args.name:
        argv += ["--name", args.name]
    if args.python:
        argv += ["--python", args.python]
    if args.quiet_progress:
        argv.append("--quiet-progress")
    return shlex.join([*argv, "--approve", checksum])


def _exit_now(code: int, why: str) -> None:
    """End the process at once, threads and all. The step supervisor notices that fedgui is
    gone and ends the running step (Linux), so nothing of the package keeps running."""
    import os

    from fedgui.cli.console import print_stamped

    print_stamped(f"fedgui: {why}")
    sys.stdout.flush()
    os._exit(code)

"""``fedgui run``: take part in a network without a window (servers, remote machines).

The same session engine as the desktop app; events are printed to the console. Ctrl-C or
SIGTERM stops the running entry point, closes the stream and exits 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

EXIT_OK = 0
EXIT_USAGE = 2  # bad arguments, unknown profile, unreadable client.yaml
EXIT_NEEDS_APPROVAL = 3  # the package must be approved first

EPILOG = """\
exit codes:
  0  stopped by Ctrl-C / SIGTERM (the running entry point was stopped, the stream closed)
  2  bad arguments, unknown profile or unreadable configuration file
  3  the network's compute package is not approved: run again with --approve after reviewing
     it (the message shows its checksum), or approve it in the desktop app; or this computer
     cannot isolate the package and you have not agreed to run it anyway (--allow-unisolated)

The package's steps run isolated (Linux, with bubblewrap): no network access, they can read
only the package, its Python and your data folder, and write only their own task folder.

Problems that can pass by themselves (the controller or the combiner is down, the token
expired) do not end the command: fedgui waits, reconnects and says so.
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
        action="store_true",
        help="approve the network's current compute package without the desktop review",
    )
    parser.add_argument(
        "--allow-unisolated",
        action="store_true",
        help="agree to run the package with your rights where this computer cannot isolate it",
    )
    parser.add_argument("--python", help="base Python interpreter for the package's entry points")
    parser.add_argument("--quiet-progress", action="store_true", help="do not print transfer progress")
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    from fedgui.core.errors import FedguiError

    try:
        profile, token_source, store = _load(args)
    except FedguiError as exc:
        print(f"fedgui: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return _run_session(profile, token_source, store, args)


def _load(args: argparse.Namespace):
    from fedgui.core.clientconfig import ClientConfigError, import_client_config
    from fedgui.core.profile import ProfileStore
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
        store = None
        imported = import_client_config(args.config)
        for note in imported.notes:
            print(f"fedgui: note: {note}", file=sys.stderr)
        if imported.unknown_keys:
            print(
                f"fedgui: note: {args.config} has keys fedgui does not know and ignores: "
                + ", ".join(imported.unknown_keys),
                file=sys.stderr,
            )
        profile = imported.profile
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
    return profile, token_source, store


def _run_session(profile, token_source, store, args: argparse.Namespace) -> int:
    from fedgui.cli.console import ConsoleRenderer
    from fedgui.core.events import ReviewNeeded, StateChanged
    from fedgui.core.execution.sandbox import UNISOLATED_WARNING
    from fedgui.core.session.engine import Session
    from fedgui.core.session.states import SessionState

    session = Session(
        profile,
        token_source,
        profile_store=store,
        auto_approve=args.approve,
        allow_unisolated=args.allow_unisolated,
    )
    session.bus.subscribe(ConsoleRenderer(show_progress=not args.quiet_progress))
    finished = threading.Event()
    outcome = {"code": EXIT_OK}

    def watch(event) -> None:
        if isinstance(event, ReviewNeeded) and not session.isolation.available:
            print(
                f"\n{UNISOLATED_WARNING} ({session.isolation.reason})\nNothing from the package "
                "runs until you agree: run again with --allow-unisolated if you trust this network's "
                "code, or install bubblewrap (sudo apt install bubblewrap).",
                file=sys.stderr,
                flush=True,
            )
            outcome["code"] = EXIT_NEEDS_APPROVAL
            finished.set()
        elif isinstance(event, ReviewNeeded):
            checksum = event.package.checksum
            print(
                "\nThe network's compute package has not been approved on this computer, so nothing "
                f"from it will run.\n  checksum (SHA-256): {checksum}\n"
                "Review it (for example with `fedgui preview --package ...`), then run again with "
                "--approve, or approve it in the desktop app.",
                file=sys.stderr,
                flush=True,
            )
            outcome["code"] = EXIT_NEEDS_APPROVAL
            finished.set()
        if isinstance(event, StateChanged) and event.state is SessionState.STOPPED:
            finished.set()

    session.bus.subscribe(watch)

    def on_signal(signum, frame) -> None:
        finished.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        session.start()
        while not finished.wait(0.5):
            pass
    finally:
        print("fedgui: stopping…", file=sys.stderr, flush=True)
        session.stop_and_wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return outcome["code"]

"""The ``fedgui`` command.

``fedgui`` alone opens the desktop app; subcommands run the same core without a window:
``fedgui run`` (take part headless), ``fedgui preview`` (local validation preview).
Each subcommand lives in its own module with ``add_parser(subparsers)`` and a handler.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from fedgui import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fedgui",
        description="Take part in a FEDn federated-learning network. Your data stays on this computer.",
    )
    parser.add_argument("--version", action="version", version=f"fedgui {__version__}")
    # Imported here, not at the top, so that ``fedgui --version`` never pays for them.
    from fedgui.cli import gui, preview, run

    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (preview, run, gui):
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list == ["--version"]:  # fast path: no subcommand imports
        print(f"fedgui {__version__}")
        return 0
    if args_list[:1] == ["--self-check"]:  # what installers and support instructions call
        args_list = ["gui", *args_list]
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:  # ``fedgui`` alone opens the desktop app
        args = parser.parse_args(["gui", *args_list])
    return int(args.handler(args) or 0)

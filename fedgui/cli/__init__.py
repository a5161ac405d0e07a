"""The ``fedgui`` command.

``fedgui`` alone opens the desktop app; subcommands run the same core without a window:
``fedgui run`` (take part headless), ``fedgui preview`` (local validation preview).
Each subcommand lives in its own module with ``add_parser(subparsers)`` and a handler.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from fedgui import __version__

# Subcommand modules, imported lazily so that ``fedgui --version`` never pays for Qt or gRPC.
SUBCOMMAND_MODULES = ("fedgui.cli.preview", "fedgui.cli.run", "fedgui.cli.gui")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fedgui",
        description="Take part in a FEDn federated-learning network. Your data stays on this computer.",
    )
    parser.add_argument("--version", action="version", version=f"fedgui {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # subcommand not built yet
                continue
            raise
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
    handler = getattr(args, "handler", None)
    if handler is None:
        if "fedgui.cli.gui" in sys.modules:
            return sys.modules["fedgui.cli.gui"].launch_gui(args)
        parser.print_help()
        return 0
    return int(handler(args) or 0)

"""``fedgui`` / ``fedgui gui``: the desktop app. Qt is imported only when it runs."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gui",
        help="open the desktop app (the default when no command is given)",
        description="Open the fedgui window. Only one runs per user: a second start shows the first.",
    )
    parser.add_argument("--start", action="store_true", help="start taking part right away")
    parser.add_argument(
        "--minimized", action="store_true", help="start in the tray without showing the window"
    )
    parser.add_argument(
        "--self-check",
        action="store_true",
        help="check that the app works here (offscreen: opens and closes the window, runs the bundled "
        "example through the interpreter that runs compute packages), print OK and exit; exit 1 if not",
    )
    parser.add_argument(
        "--python",
        metavar="INTERPRETER",
        help="with --self-check: the interpreter to check (default: the one fedgui picks itself)",
    )
    parser.set_defaults(handler=launch_gui)


def launch_gui(args: argparse.Namespace) -> int:
    if args.self_check:
        from fedgui.gui.self_check import self_check

        return self_check(args.python)
    from fedgui.core.memory_tuning import tune_allocator

    tune_allocator()  # first, before Qt or gRPC start threads: keeps memory flat while models move
    from fedgui.gui.app import LaunchOptions, run_gui

    return run_gui(LaunchOptions(start=args.start, minimized=args.minimized))

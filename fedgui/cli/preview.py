"""``fedgui preview``: try a compute package on your own data before joining a network."""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
from typing import Any, TextIO

from fedgui.core.errors import FedguiError
from fedgui.core.events import Event, LogLine, MetricReported
from fedgui.core.execution.environment import EnvironmentBuildStep

EXIT_OK = 0
EXIT_OTHER = 1
EXIT_USAGE = 2  # argparse's own code for a bad command line
EXIT_NOT_APPROVED = 3
EXIT_PACKAGE = 4
EXIT_ENVIRONMENT = 5
EXIT_ENTRY_POINT = 6
EXIT_UNISOLATED = 7
EXIT_INTERRUPTED = 130

EPILOG = f"""\
Runs the package's startup step (if it has one), then its validate step on the model with
your data, and prints the metrics. With --train it first trains a copy of the model on your
data and validates that too. Nothing is sent anywhere.

Every step runs isolated (Linux, with bubblewrap): no network access, and it can read only
the package, its Python and your data folder, and write only its own task folder. With
--allow-network or --read-folder you allow this package version more; that is remembered with
its approval, and a new version starts without it. Where this computer cannot isolate
packages, nothing runs until you agree with --allow-unisolated (remembered).

Nothing in a package runs until you approve it. Without --approve, a package not approved
before stops here and shows its checksum; look at the package, then run again with --approve
(or --approve CHECKSUM to approve only that exact package).

exit codes:
  {EXIT_OK}    everything ran and wrote valid output
  {EXIT_OTHER}    another problem (the message says what)
  {EXIT_USAGE}    bad command line, or the model file / data folder is missing
  {EXIT_NOT_APPROVED}    the package is not approved yet (or --approve named another checksum)
  {EXIT_PACKAGE}    the package could not be read (archive, checksum, fedn.yaml)
  {EXIT_ENVIRONMENT}    its Python environment could not be prepared
  {EXIT_ENTRY_POINT}    an entry point failed, timed out or wrote invalid output
  {EXIT_UNISOLATED}    this computer cannot isolate the package and you have not agreed to run it anyway
  {EXIT_INTERRUPTED}  interrupted (Ctrl+C)
"""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "preview",
        help="try a compute package on your data before joining",
        description="Try a FEDn compute package on this computer's data. Nothing leaves the computer.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--package", required=True, help="package archive (.tgz) or folder with fedn.yaml")
    parser.add_argument("--model", required=True, help="model file to validate (e.g. seed.npz)")
    parser.add_argument(
        "--data", required=True, help="your data folder (given to the package as FEDN_DATA_PATH)"
    )
    parser.add_argument("--train", action="store_true", help="also train a copy of the model and validate it")
    parser.add_argument(
        "--approve",
        nargs="?",
        const=True,
        default=False,
        metavar="CHECKSUM",
        help="approve the package (only the one with this SHA-256, if given)",
    )
    parser.add_argument("--python", metavar="PATH", help="Python interpreter to run the package with")
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="stop an entry point after this long"
    )
    parser.add_argument(
        "--allow-network",
        action="store_true",
        help="let this package version use the network (remembered with its approval)",
    )
    parser.add_argument(
        "--read-folder",
        action="append",
        default=[],
        metavar="DIR",
        help="let this package version read DIR too (repeatable; remembered with its approval)",
    )
    parser.add_argument(
        "--allow-unisolated",
        action="store_true",
        help="run even where this computer cannot isolate the package (it runs with your rights)",
    )
    parser.add_argument("--skip-startup", action="store_true", help="do not run the package's startup step")
    parser.set_defaults(handler=run_preview_command)
    return parser


class PreviewPrinter:
    """Prints events as ``[validate] ...`` lines; thread-safe (entry point output comes from two threads)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        line = self.format(event)
        if line is not None:
            with self._lock:
                print(line, file=self.out, flush=True)

    @staticmethod
    def format(event: Event) -> str | None:
        if isinstance(event, LogLine):
            source = "fedgui" if event.source == "client" else event.source
            marker = {"warning": "warning: ", "error": "error: "}.get(event.level, "")
            if event.level == "debug":
                return None
            return f"[{source}] {marker}{event.text}"
        if isinstance(event, MetricReported):
            values = ", ".join(f"{name}={_format_value(value)}" for name, value in event.values.items())
            step = f" step {event.step}" if event.step is not None else ""
            return f"[{event.source}] metric{step}: {values}"
        if isinstance(event, EnvironmentBuildStep):
            return f"[fedgui] step {event.index} of {event.total}: {event.label}"
        return None


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def metrics_table(columns: dict[str, dict[str, Any]]) -> str:
    """A plain text table: one row per metric, one column per model."""
    names: list[str] = []
    for metrics in columns.values():
        names += [name for name in metrics if name not in names]
    header = ["metric", *columns]
    rows = [
        [name, *(_format_value(m[name]) if name in m else "-" for m in columns.values())] for name in names
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)])


def exit_code_for(error: FedguiError) -> int:
    from fedgui.core.execution.environment import PythonEnvironmentError
    from fedgui.core.execution.errors import EntryPointError
    from fedgui.core.execution.sandbox import IsolationUnavailable
    from fedgui.core.package.errors import PackageError, PackageNotApproved
    from fedgui.core.preview import ApprovalMismatch, PreviewError

    if isinstance(error, IsolationUnavailable):
        return EXIT_UNISOLATED
    if isinstance(error, (PackageNotApproved, ApprovalMismatch)):
        return EXIT_NOT_APPROVED
    if isinstance(error, PackageError):
        return EXIT_PACKAGE
    if isinstance(error, PythonEnvironmentError):
        return EXIT_ENVIRONMENT
    if isinstance(error, EntryPointError):
        return EXIT_ENTRY_POINT
    if isinstance(error, PreviewError):
        return EXIT_USAGE
    return EXIT_OTHER


def run_preview_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from fedgui.core.package.permissions import PackagePermissions
    from fedgui.core.preview import run_preview

    permissions = None
    if args.allow_network or args.read_folder:
        folders = tuple(Path(folder).resolve() for folder in args.read_folder)
        permissions = PackagePermissions(network=args.allow_network, read_folders=folders)
    out = sys.stdout
    printer = PreviewPrinter(out)
    try:
        result = run_preview(
            args.package,
            args.model,
            args.data,
            train=args.train,
            approve=args.approve,
            base_python=args.python,
            timeout=args.timeout,
            run_startup=not args.skip_startup,
            sink=printer,
            permissions=permissions,
            allow_unisolated=args.allow_unisolated,
        )
    except FedguiError as error:
        from fedgui.core.execution.sandbox import IsolationUnavailable

        if isinstance(error, IsolationUnavailable):  # the command line's way to agree
            error = IsolationUnavailable(
                error.support,
                "Install bubblewrap (Debian/Ubuntu: sudo apt install bubblewrap) and try again; or, if "
                "you trust this package, run again with --allow-unisolated.",
            )
        from fedgui.cli.console import error_details

        details = error_details(error)  # what the desktop app keeps behind "Details"
        print(f"\nPreview failed: {error}" + (f"\n{details}" if details else ""), file=sys.stderr)
        return exit_code_for(error)
    except KeyboardInterrupt:
        print("\nPreview interrupted; the package's processes were stopped.", file=sys.stderr)
        return EXIT_INTERRUPTED
    columns = {"given model": result.model_metrics}
    if result.trained_metrics is not None:
        columns["after training here"] = result.trained_metrics
    print(f"\nPackage {result.package.checksum}", file=out)
    if result.train_metadata is not None:
        print(f"Trained on {_format_value(result.train_metadata.get('num_examples'))} examples.", file=out)
    print("\n" + metrics_table(columns), file=out)
    print("\nPreview finished: every step ran and wrote valid output.", file=out)
    return EXIT_OK

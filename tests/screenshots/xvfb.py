"""Run a screenshot script again inside its own Xvfb, so the PNGs show Qt's real xcb rendering."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def rerun_inside_xvfb(script: Path, arguments: list[str], screen: str = "1280x800x24") -> int:
    """Start ``Xvfb :N -screen 0 <screen>``, run ``script --child *arguments`` on it, stop it.
    Returns the child's exit code (2 when Xvfb is not installed)."""
    if not shutil.which("Xvfb"):
        print("Xvfb is not installed (apt-get install xvfb)", file=sys.stderr)
        return 2
    display = f":{90 + os.getpid() % 100}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", screen, "-nolisten", "tcp"])
    try:
        time.sleep(1.0)
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
        env.pop("WAYLAND_DISPLAY", None)
        return subprocess.run([sys.executable, str(script), "--child", *arguments], env=env).returncode
    finally:
        xvfb.terminate()
        xvfb.wait()


def screenshots_main(doc: str | None, script: str, take: Callable[[Path], int], default_out: Path) -> int:
    """The command line of a screenshot script: ``[--out DIR]``. Run by hand it starts itself
    again in its own Xvfb (with ``--child``), where ``take(out)`` saves the PNGs."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=default_out)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return take(args.out)
    return rerun_inside_xvfb(Path(script), ["--out", str(args.out)])

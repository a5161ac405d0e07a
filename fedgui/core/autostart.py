"""Start fedgui when the person logs in (Linux and other XDG desktops).

A desktop entry in ``$XDG_CONFIG_HOME/autostart`` (default ``~/.config/autostart``) is what GNOME,
KDE, Xfce and friends run at login. Windows and macOS come with their installers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from fedgui.core.fileio import atomic_write_text

ENTRY_NAME = "fedgui.desktop"


def is_supported() -> bool:
    return sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))


def autostart_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart"


def autostart_path() -> Path:
    return autostart_dir() / ENTRY_NAME


def default_command() -> list[str]:
    """How to start the desktop app minimised and taking part, from wherever it is installed."""
    if getattr(sys, "frozen", False):  # a bundled app: the executable is fedgui itself
        return [sys.executable, "gui", "--start", "--minimized"]
    # -I: the login entry bypasses /usr/bin/fedgui's wrapper, so keep the person's PYTHONPATH
    # and the current folder away from the app's interpreter.
    return [sys.executable, "-I", "-m", "fedgui", "gui", "--start", "--minimized"]


def quote_exec_argument(argument: str) -> str:
    """Quote one argument as the Desktop Entry spec wants (double quotes, backslash escapes)."""
    if argument and not any(c in argument for c in " \t\n\"'\\><~|&;$*?#()`="):
        return argument
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in argument)
    return f'"{escaped}"'


def desktop_entry(command: Sequence[str]) -> str:
    exec_line = " ".join(quote_exec_argument(a).replace("%", "%%") for a in command)
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=fedgui\n"
        "Comment=Take part in a federated-learning network\n"
        f"Exec={exec_line}\n"
        # After an uninstall the interpreter is gone and the desktop skips the entry.
        f"TryExec={quote_exec_argument(command[0])}\n"
        "Icon=fedgui\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def is_enabled() -> bool:
    return autostart_path().is_file()


def enable(command: Sequence[str] | None = None) -> Path:
    """Write (or rewrite) the autostart entry; returns its path."""
    path = autostart_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, desktop_entry(list(command or default_command())))
    return path


def disable() -> bool:
    """Remove the autostart entry; False when there was none."""
    try:
        autostart_path().unlink()
    except FileNotFoundError:
        return False
    return True


def set_enabled(enabled: bool, command: Sequence[str] | None = None) -> None:
    if enabled:
        enable(command)
    else:
        disable()

"""The example bundled with fedgui (package, seed model, sample data), for "Try the example first"."""

from __future__ import annotations

from pathlib import Path

from fedgui.core.resources import example_dir


def find_example_folder() -> Path | None:
    """The bundled example, wherever fedgui is installed (see fedgui.core.resources); None when
    it is missing (a broken install: the welcome page then hides the button)."""
    try:
        return example_dir()
    except FileNotFoundError:
        return None

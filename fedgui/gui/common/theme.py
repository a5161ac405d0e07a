"""Icons and look: SVG icons from ``resources/icons`` and the state → icon mapping.

Colours come from the platform palette (light or dark, as the OS says); widgets use palette
roles and never hard-code colours. Only the icons carry their own colours, because a green
tick or a red cross must mean the same thing on every theme.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon, QPalette
from PySide6.QtWidgets import QApplication

from fedgui.core.resources import resources_dir

#: Which icon shows each session state (values of ``fedgui.core.session.SessionState``).
STATE_ICONS = {
    "idle": "state-idle",
    "connecting_controller": "state-connecting",
    "waiting_for_package": "state-connecting",
    "assigned": "state-connecting",
    "preparing_package": "state-connecting",
    "review_needed": "state-attention",
    "building_environment": "state-connecting",
    "starting_package": "state-connecting",
    "connecting_combiner": "state-connecting",
    "ready": "state-ready",
    "working": "state-working",
    "reconnecting": "state-connecting",
    "pausing": "state-paused",
    "paused": "state-paused",
    "token_rejected": "state-attention",
    "token_expired": "state-attention",
    "error": "state-error",
    "stopped": "state-stopped",
}


def icons_dir() -> Path:
    """Where the SVG icons are (a checkout, a bundle or an install: see fedgui.core.resources)."""
    try:
        return resources_dir("icons/app.svg") / "icons"
    except FileNotFoundError:  # a broken install still starts, without icons
        return Path(__file__).resolve().parents[2] / "resources" / "icons"


@cache
def icon(name: str) -> QIcon:
    """An SVG icon by file stem; SVG scales cleanly on high-DPI screens. Empty icon if missing."""
    path = icons_dir() / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


def app_icon() -> QIcon:
    return icon("app")


def state_icon(state: str) -> QIcon:
    return icon(STATE_ICONS.get(state, "state-idle"))


def is_dark_palette(palette: QPalette | None = None) -> bool:
    """True when the OS theme is dark (window background darker than its text)."""
    if palette is None:
        app = QApplication.instance()
        palette = app.palette() if isinstance(app, QApplication) else QPalette()
    return (
        palette.color(QPalette.ColorRole.Window).lightness()
        < palette.color(QPalette.ColorRole.WindowText).lightness()
    )

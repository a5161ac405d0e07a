"""``fedgui --self-check``: does the app work on this computer? Installers and support run it.

Offscreen it opens and closes the main window (with plots), then runs the bundled example's
preview (``validate`` on the sample data) through the interpreter that will run compute
packages, and prints what it checked. Anything that cannot run is a failure with its reason:
a missing example or a broken interpreter must never pass as "skipped".
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fedgui.core.errors import FedguiError


def self_check(python: str | None = None) -> int:
    """0 when the window renders and the example preview runs through ``python`` (default: the
    interpreter fedgui picks for a profile without its own choice); else 1."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="fedgui-self-check-") as home:
        os.environ["FEDGUI_HOME"] = home  # never touch the person's own profiles or history
        rendered = _check_window(Path(home))
        preview_ok = _check_example_preview(python)
        ok = rendered and preview_ok
        print("OK" if ok else "FAILED", flush=True)
        return 0 if ok else 1


def _check_window(home: Path) -> bool:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    from fedgui.core.history.store import HistoryStore
    from fedgui.core.profile import Profile, ProfileStore
    from fedgui.gui.app import create_application
    from fedgui.gui.window.main_window import MainWindow

    app = create_application()
    profile = Profile.new("Self-check", "http://localhost:8092")
    history = HistoryStore(home / "history.sqlite3")
    window = MainWindow(
        [profile], profile_store=ProfileStore(home / "profiles"), history=history, secrets=None
    )
    window.show()
    window.plots.ensure_plots()
    app.processEvents()
    rendered = not window.grab().isNull()
    window.really_quit = True
    window.close()
    history.close()
    print(f"Qt {qVersion()}, PySide6 {pyside_version}, platform {app.platformName()}")
    print(f"main window: opened, {'rendered' if rendered else 'NOT rendered'} and closed")
    return rendered


def _check_example_preview(python: str | None) -> bool:
    from fedgui.core.execution.environment import resolve_base_python_info
    from fedgui.core.preview import run_preview
    from fedgui.core.resources import example_dir

    try:
        example = example_dir()
        interpreter = resolve_base_python_info(python)
        print(f"packages run with: {interpreter.path} (Python {'.'.join(map(str, interpreter.version))})")
        # approve=True: the bundled example is ours; the approval lands in the temporary home.
        result = run_preview(
            example / "package",
            example / "seed.npz",
            example / "data",
            approve=True,
            base_python=interpreter.path,
        )
    except FedguiError as error:
        print(f"example preview: FAILED: {error.user_text()}")
        return False
    except Exception as error:  # whatever it is, the check must say it and fail
        print(f"example preview: FAILED: {error.__class__.__name__}: {error}")
        return False
    numbers = {k: v for k, v in result.model_metrics.items() if isinstance(v, (int, float))}
    if not numbers:
        print("example preview: FAILED: validate ran but reported no metrics")
        return False
    metrics = ", ".join(f"{k}={v:.3g}" for k, v in numbers.items())
    print(f"example preview: validate ran on the sample data ({metrics})")
    return True

"""Screenshots of the isolation as a person sees it, under a real X server (Xvfb):

    .venv/bin/python tests/screenshots/isolation_screens.py [--out docs/screenshots]

- ``review-isolation.png``: the review of the bundled example with "What it can reach" (this
  computer's real isolation, found out as the app does);
- ``review-isolation-network.png``: the same with network access allowed for this version;
- ``review-no-isolation.png``: a computer without bubblewrap (simulated: the support is given);
- ``status-isolation.png``: the status panel with the isolation line, as the overview shows it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tests.screenshots.xvfb import screenshots_main  # noqa: E402

DEFAULT_OUT = ROOT / "docs" / "screenshots"


def child(out: Path) -> int:
    os.environ.setdefault("FEDGUI_HOME", tempfile.mkdtemp(prefix="fedgui-shots-"))
    from PySide6.QtWidgets import QApplication

    from fedgui.core.execution.sandbox import IsolationSupport, describe, detect_isolation
    from fedgui.core.package.cache import PackageCache
    from fedgui.core.resources import example_dir
    from fedgui.core.session.states import SessionState
    from fedgui.gui.review.dialog import PackageReviewDialog
    from fedgui.gui.window.status_panel import StatusPanel

    app = QApplication.instance() or QApplication(sys.argv)
    package = PackageCache().prepare_folder(example_dir() / "package")
    support = detect_isolation()
    out.mkdir(parents=True, exist_ok=True)

    def settle(widget, seconds: float = 1.5) -> None:
        import time

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)

    def review(name: str, isolation: IsolationSupport, network: bool = False) -> None:
        dialog = PackageReviewDialog(package, isolation=isolation)
        dialog.resize(1000, 760)
        dialog.show()
        settle(dialog)
        if network:
            dialog.isolation_panel.network.setChecked(True)
            settle(dialog, 0.3)
        dialog.grab().save(str(out / name))
        dialog.close()

    review("review-isolation.png", support)
    review("review-isolation-network.png", support, network=True)
    review(
        "review-no-isolation.png",
        IsolationSupport("none", reason="bubblewrap is not installed on this computer."),
    )
    panel = StatusPanel()
    panel.resize(900, 170)
    panel.set_network("Hospital A", "https://fedn.example.org")
    panel.show_state(SessionState.READY, "Waiting for work")
    panel.set_isolation(describe(support))
    panel.show()
    settle(panel)
    panel.grab().save(str(out / "status-isolation.png"))
    print(f"saved to {out}")
    return 0


def main() -> int:
    return screenshots_main(__doc__, __file__, child, DEFAULT_OUT)


if __name__ == "__main__":
    raise SystemExit(main())

"""Screenshots of the main window taking part in a real FEDn session, under Xvfb.

    .venv/bin/python tests/screenshots/real_session_screens.py [--rounds 4] [--out DIR]

Starts a real local FEDn 0.33 network (tests/fednet), uploads the bundled example package
(resources/example: logistic regression with live FEDGUI_METRIC lines) and its seed model, opens
the real main window on a profile whose data folder is the example's data, presses Start, runs
a FEDn session and saves PNGs of each tab while and after it runs: the plots hold real rounds.
Then the network publishes a new version of its code, fedgui restarts (a new window on the same
profile and history), and the review of the new version with its diff is saved too.

The screen is 1366×768; the window is as big as what a 40 px task bar and a 30 px title bar
leave of it (1366×698).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
DEFAULT_OUT = ROOT / "tests" / "_artifacts" / "screenshots"


def run_xvfb(args: argparse.Namespace) -> int:
    from tests.screenshots.xvfb import rerun_inside_xvfb

    arguments = ["--out", str(args.out), "--rounds", str(args.rounds)] + (["--dark"] if args.dark else [])
    return rerun_inside_xvfb(Path(__file__), arguments, screen="1366x768x24")


WINDOW_SIZE = (1366, 768 - 40 - 30)


def example_archive(dest: Path, changed: bool = False) -> Path:
    """The bundled example package; ``changed``: a second version with a longer training."""
    package = ROOT / "resources" / "example" / "package"
    with tarfile.open(dest, "w:gz") as archive:
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                data = path.read_bytes()
                if changed and path.name == "train.py":  # the admin trains longer, more gently
                    data = data.replace(b'"learning_rate", 0.5', b'"learning_rate", 0.2')
                    data = data.replace(b'"epochs", 10', b'"epochs", 25')
                info = tarfile.TarInfo(path.relative_to(package).as_posix())
                info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
                archive.addfile(info, io.BytesIO(data))
    return dest


def use_dark_palette(app) -> None:
    from PySide6.QtGui import QColor, QPalette

    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#2b2b2b",
        QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1e1e",
        QPalette.ColorRole.AlternateBase: "#2a2a2a",
        QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#353535",
        QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.Highlight: "#2f6db5",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#353535",
        QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#9a9a9a",
        # Fusion draws check box and frame borders from these: without them they vanish on dark.
        QPalette.ColorRole.Light: "#5a5a5a",
        QPalette.ColorRole.Midlight: "#4a4a4a",
        QPalette.ColorRole.Mid: "#6a6a6a",
        QPalette.ColorRole.Dark: "#1a1a1a",
        QPalette.ColorRole.Shadow: "#101010",
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    app.setPalette(palette)


def child(args: argparse.Namespace) -> int:
    home = Path(tempfile.mkdtemp(prefix="fedgui-real-shots-"))
    os.environ["FEDGUI_HOME"] = str(home)
    os.environ["XDG_CONFIG_HOME"] = str(home / "xdg")  # never touch the real autostart folder

    from PySide6.QtWidgets import QApplication

    from fedgui.core.history.store import HistoryStore
    from fedgui.core.package.checksum import sha256_file
    from fedgui.core.profile import Profile, ProfileStore
    from fedgui.core.secrets import SecretStore
    from fedgui.core.session.states import SessionState
    from fedgui.gui.window.main_window import MainWindow
    from tests.fednet import FednNetwork, ensure_environments

    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication([])
    prefix = "real-dark" if args.dark else "real"
    if args.dark:  # what a person with a dark desktop theme sees (Xvfb has no theme of its own)
        use_dark_palette(app)
    network = FednNetwork(run_dir=home / "fednet", envs=ensure_environments()).start()
    try:
        archive = example_archive(home / "example.tgz")
        network.upload_package(archive)
        network.set_seed_model(ROOT / "resources" / "example" / "seed.npz")

        store = ProfileStore()
        profile = Profile.new("Example hospital network", network.api_url, client_name="st-olav-lab")
        profile.data_folder = ROOT / "resources" / "example" / "data"
        profile.approve(sha256_file(archive))
        profile.ready = True
        store.save(profile)
        history = HistoryStore()
        window = MainWindow([profile], profile_store=store, history=history, secrets=SecretStore())
        window.resize(*WINDOW_SIZE)
        window.show()

        def pump_until(predicate, timeout: float) -> bool:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                app.processEvents()
                if predicate():
                    return True
                time.sleep(0.02)
            return False

        def shot(name: str, tab=None) -> None:
            if tab is not None:
                window.tabs.setCurrentWidget(tab)
            pump_until(lambda: False, 0.8)
            window.grab().save(str(args.out / f"{prefix}-{name}.png"))
            print("saved", args.out / f"{prefix}-{name}.png")

        window.start_or_resume()
        if not pump_until(lambda: window.controller.state is SessionState.READY, 90):
            print("the client never became ready", file=sys.stderr)
            return 1
        network.wait_clients_online(1, timeout=30)
        shot("1-waiting-for-work", window.log_view)
        session_id = network.start_session(rounds=args.rounds, round_timeout=120, min_clients=1)
        pump_until(lambda: window.controller.state is SessionState.WORKING, 60)
        pump_until(lambda: False, 1.5)
        shot("2-working-overview", window.overview)
        deadline = time.monotonic() + 60 * args.rounds
        while str(network.session(session_id).get("status", "")).lower() != "finished":
            pump_until(lambda: False, 0.5)
            if time.monotonic() > deadline:
                print("the FEDn session did not finish", file=sys.stderr)
                return 1
        pump_until(lambda: len(window.history_table.model.rows) >= 2 * args.rounds, 60)
        pump_until(lambda: False, 2.0)
        pump_until(lambda: window.overview.data.rounds_trained >= args.rounds, 30)
        shot("3-overview-after", window.overview)
        shot("4-results", window.plots)
        bar = window.plots.scroll_area.verticalScrollBar()
        bar.setValue(bar.maximum())  # the training curve, under the per-round plots
        shot("4b-results-training-curve", window.plots)
        bar.setValue(0)
        shot("5-history", window.history_table)
        shot("6-log-after", window.log_view)

        # A new version of the network's code, and a restart of fedgui.
        window.really_quit = True
        window.controller.stop_then(lambda: None)
        pump_until(lambda: window.controller.state is SessionState.STOPPED, 30)
        window.close()
        network.upload_package(example_archive(home / "example-v2.tgz", changed=True))
        restarted = MainWindow(
            [store.get(profile.id)], profile_store=store, history=history, secrets=SecretStore()
        )
        restarted.resize(*WINDOW_SIZE)
        restarted.show()
        restarted.start_or_resume()
        if not pump_until(lambda: restarted.controller.state is SessionState.REVIEW_NEEDED, 90):
            print("the new version was never offered for review", file=sys.stderr)
            return 1
        pump_until(lambda: False, 1.0)
        restarted.tabs.setCurrentWidget(restarted.overview)
        pump_until(lambda: False, 0.8)
        restarted.grab().save(str(args.out / f"{prefix}-7-new-version.png"))
        dialog = restarted.review_package()
        dialog.resize(*WINDOW_SIZE)
        pump_until(lambda: dialog.approve_button.isEnabled(), 30)
        dialog.review_widget.select_file("train.py")
        pump_until(lambda: False, 1.5)
        dialog.grab().save(str(args.out / f"{prefix}-8-review-after-restart.png"))
        print("saved the review after the restart")
        dialog.reject()
        restarted.really_quit = True
        restarted.controller.stop_then(lambda: None)
        pump_until(lambda: restarted.controller.state is SessionState.STOPPED, 30)
        history.close()
        return 0
    finally:
        network.stop()
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--dark", action="store_true", help="a dark palette, as a dark desktop theme gives")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    return child(args) if args.child else run_xvfb(args)


if __name__ == "__main__":
    raise SystemExit(main())

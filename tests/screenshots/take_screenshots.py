"""Screenshots of the main window with demo data, under a real X server (Xvfb).

    .venv/bin/python tests/screenshots/take_screenshots.py [--out tests/_artifacts/screenshots]

Starts ``Xvfb :N -screen 0 1280x800x24``, then runs this script again inside it (``--child``):
a real HistoryStore in a temporary FEDGUI_HOME filled with a few rounds, and a real EventBus
fed from a thread with live events (states, log lines, metrics, resource use) by a demo
session. No network is needed. Saves one PNG per tab and state, plus dialogs.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "tests" / "_artifacts" / "screenshots"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from fedgui.core.execution.errors import EntryPointCrashed  # noqa: E402
from tests.screenshots.xvfb import screenshots_main  # noqa: E402

# ---- inside Xvfb ---------------------------------------------------------------------------------


class DemoClock:
    """A clock the demo moves by hand, so the rounds spread over the last two hours."""

    def __init__(self) -> None:
        self.now: float | None = None  # None: real time

    def __call__(self) -> float:
        return time.time() if self.now is None else self.now


# The text a real crash leaves in the history (what the person reads there).
CRASH = EntryPointCrashed(
    "train",
    1,
    [
        "Traceback (most recent call last):",
        '  File "train.py", line 41, in <module>',
        "    weights = np.zeros((200000, 200000))",
        "MemoryError: Unable to allocate 298. GiB for an array with shape (200000, 200000)",
    ],
)


def fill_demo_history(history, clock: DemoClock, profile_id: str, rounds: int = 12) -> None:
    rng = random.Random(7)
    start = time.time() - rounds * 600
    for number in range(1, rounds + 1):
        clock.now = start + number * 600
        train = history.start_task(profile_id, "train", round_id=str(number), model_id=f"model-{number}")
        with history.open_task_log(train) as log:
            for epoch in range(1, 4):
                log.write_line(f"epoch {epoch}/3  loss={1.2 / (number + epoch):.4f}")
        if number == 8:
            clock.now += 42
            history.finish_task(train, "failed", error=str(CRASH))
            continue
        history.add_metrics(train, "training_metadata", {"num_examples": 400, "epochs": 3, "batch_size": 32})
        clock.now += 75 + rng.random() * 20
        history.finish_task(train, "ok", timings={"exec_training": 70.0})
        validate = history.start_task(
            profile_id, "validate", round_id=str(number), model_id=f"global-{number}"
        )
        accuracy = 0.62 + 0.3 * (1 - math.exp(-number / 4)) + rng.uniform(-0.01, 0.01)
        history.add_metrics(
            validate,
            "validation",
            {
                "test_accuracy": accuracy,
                "test_loss": 1.1 * math.exp(-number / 5) + 0.15,
                "training_accuracy": accuracy + 0.03,
                "training_loss": math.exp(-number / 5) + 0.1,
            },
        )
        clock.now += 8 + rng.random() * 6
        history.finish_task(validate, "ok")
    clock.now = None


class DemoSession:
    """Plays a round of events onto the window's bus from a thread, like a session would."""

    def __init__(self, profile, bus) -> None:
        self.bus = bus
        self.state = None
        self.pending_review = None
        self.package = None
        self.assignment = type("Assignment", (), {"fqdn": "combiner.fedn.example.org", "port": 443})()

    def start(self) -> None:
        threading.Thread(target=self._play, daemon=True).start()

    def _play(self) -> None:
        from fedgui.core.events import LogLine, MetricReported, ResourceUsage, StateChanged, TaskStarted
        from fedgui.core.session.states import SessionState

        emit = self.bus.emit
        emit(StateChanged(state=SessionState.CONNECTING_CONTROLLER, detail="connecting to the network"))
        emit(
            LogLine(source="client", stream="client", text="Connected to the controller at fedn.example.org.")
        )
        emit(LogLine(source="client", stream="client", text="Compute package 3f9c…e1 is approved; using it."))
        emit(StateChanged(state=SessionState.READY, detail="waiting for work"))
        emit(TaskStarted(task_id="demo", kind="train", round_id="13", model_id="global-12", session_id=None))
        emit(StateChanged(state=SessionState.WORKING, detail="training round 13"))
        emit(LogLine(source="client", stream="client", text="Round 13: training on your data (400 rows)."))
        for step in range(1, 61):
            loss = 0.9 * math.exp(-step / 20) + 0.12
            emit(
                LogLine(source="train", stream="stdout", text=f"step {step:3d}/60  loss={loss:.4f}  lr=0.010")
            )
            if step % 3 == 0:
                emit(
                    MetricReported(
                        values={"loss": loss, "accuracy": 0.95 - loss / 2}, step=step, source="train"
                    )
                )
        emit(
            LogLine(
                source="train",
                stream="stderr",
                text="UserWarning: 3 rows have missing values",
                level="warning",
            )
        )
        emit(ResourceUsage(cpu_percent=183.0, rss_bytes=412 * 1024 * 1024))

    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...
    def approve_package(self, checksum: str) -> None: ...
    def reject_package(self) -> None: ...
    def update_token(self, token: str) -> None: ...
    def retry(self) -> None: ...


def take(out: Path) -> int:
    home = Path(tempfile.mkdtemp(prefix="fedgui-shots-"))
    os.environ["FEDGUI_HOME"] = str(home)
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from fedgui.core.events import StateChanged
    from fedgui.core.history.store import HistoryStore
    from fedgui.core.profile import Profile, ProfileStore
    from fedgui.core.session.states import SessionState
    from fedgui.gui.app import create_application
    from fedgui.gui.settings.dialog import PreferencesStore, SettingsDialog
    from fedgui.gui.window.main_window import MainWindow

    app = create_application()
    out.mkdir(parents=True, exist_ok=True)
    data = home / "clinic-data"
    data.mkdir()
    store = ProfileStore()
    profile = Profile.new(
        "St. Olav cardiology study",
        "https://fedn.example.org",
        data_folder=data,
        ready=True,
        cpu_thread_limit=4,
    )
    other = Profile.new("Lab test network", "http://localhost:8092", ready=True)
    store.save(profile)
    store.save(other)
    clock = DemoClock()
    history = HistoryStore(clock=clock)
    fill_demo_history(history, clock, profile.id)
    window = MainWindow(
        [profile, other],
        profile_store=store,
        history=history,
        secrets=None,
        session_factory=DemoSession,
        preferences=PreferencesStore(),
        current_profile_id=profile.id,
    )
    window.resize(1240, 760)
    window.move(20, 20)
    window.show()

    def settle(ms: int = 400) -> None:
        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def shot(widget, name: str) -> None:
        settle()
        path = out / f"{name}.png"
        widget.grab().save(str(path))
        print(path)

    settle(800)
    shot(window, "01-idle-live-log")
    window.start_or_resume()
    settle(1200)
    shot(window, "02-working-live-log")
    window.tabs.setCurrentWidget(window.plots)
    settle(800)
    shot(window, "03-results-plots")
    window.tabs.setCurrentWidget(window.history_table)
    row = next(i for i, r in enumerate(window.history_table.model.rows) if r.task.status == "failed")
    window.history_table.table.selectRow(row)
    shot(window, "04-history")
    window.tabs.setCurrentIndex(3)
    shot(window, "05-computer-use")
    window.tabs.setCurrentWidget(window.log_view)
    window.controller.bus.emit(StateChanged(state=SessionState.TOKEN_EXPIRED))
    shot(window, "06-token-expired")
    window.controller.bus.emit(StateChanged(state=SessionState.REVIEW_NEEDED))
    shot(window, "07-review-needed")
    window.controller.bus.emit(
        StateChanged(state=SessionState.RECONNECTING, detail="connection lost; reconnecting in 8 s")
    )
    shot(window, "08-reconnecting")
    settings = SettingsDialog(profile, store, window.preferences, window)
    settings.show()
    shot(settings, "09-settings")
    settings.close()
    viewer = window.open_task_log(window.history_table.model.rows[row].task)
    viewer.resize(800, 360)
    shot(viewer, "10-task-log")
    viewer.close()
    screen = QApplication.primaryScreen().grabWindow(0)
    screen.save(str(out / "00-whole-screen.png"))
    window.really_quit = True
    window.log_view.detach()
    window.close()
    history.close()
    shutil.rmtree(home, ignore_errors=True)
    return 0


def main() -> int:
    return screenshots_main(__doc__, __file__, take, DEFAULT_OUT)


if __name__ == "__main__":
    raise SystemExit(main())

"""Fixtures for the main-window tests: a real HistoryStore on a temp file filled with rounds,
a real ProfileStore, a real EventBus (inside the window), and a recording stand-in for the
Session (the real one is wired against a real FEDn network in the lead's tests)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from fedgui.core.events import Event
from fedgui.core.history.store import HistoryStore
from fedgui.core.profile import Profile, ProfileStore


class RecordingSession:
    """Stands in for fedgui.core.session.Session: remembers which controls were used."""

    def __init__(self, profile: Profile, bus) -> None:
        self.profile = profile
        self.bus = bus
        self.calls: list[tuple] = []

    def _record(self, *call) -> None:
        self.calls.append(call)

    def start(self) -> None:
        self._record("start")

    def pause(self) -> None:
        self._record("pause")

    def resume(self) -> None:
        self._record("resume")

    def request_stop(self) -> None:
        self._record("stop")

    def stop_and_wait(self, timeout: float = 30.0) -> None:
        self._record("stop")

    def approve_package(self, checksum: str, permissions=None, run_unisolated: bool = False) -> None:
        self._record("approve_package", checksum)

    def reject_package(self) -> None:
        self._record("reject_package")

    def update_token(self, token: str) -> None:
        self._record("update_token", token)

    def retry(self) -> None:
        self._record("retry")

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


class RecordingSecrets:
    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}

    def get_token(self, profile_id: str) -> str | None:
        return self.tokens.get(profile_id)

    def set_token(self, profile_id: str, token: str, session_only: bool = False) -> None:
        self.tokens[profile_id] = token


def fill_history(
    history: HistoryStore, profile_id: str, rounds: int = 5, failed_rounds: Iterable[int] = (3,)
) -> None:
    """Each round: a train task (metadata) and a validate task (metrics); listed rounds fail."""
    failed = set(failed_rounds)
    for number in range(1, rounds + 1):
        train = history.start_task(profile_id, "train", round_id=str(number), model_id=f"m{number}")
        with history.open_task_log(train) as log:
            log.write_line(f"epoch 1 of round {number}")
            log.write_line(f"training round {number} done")
        if number in failed:
            history.finish_task(
                train, "failed", error="The training code stopped with an error (exit code 1)."
            )
            continue
        history.add_metrics(train, "training_metadata", {"num_examples": 400, "epochs": 2, "lr": 0.1})
        history.finish_task(train, "ok", timings={"exec_training": 1.5})
        validate = history.start_task(profile_id, "validate", round_id=str(number), model_id=f"g{number}")
        history.add_metrics(
            validate,
            "validation",
            {
                "accuracy": 0.5 + number * 0.05,
                "loss": 1.0 / number,
                "note": "text is not plotted",
                "f1": float("nan") if number == 2 else 0.4 + number * 0.04,
            },
        )
        history.finish_task(validate, "ok")


@pytest.fixture(autouse=True)
def isolated_autostart(tmp_path_factory, monkeypatch):
    """Nothing here may touch the real ~/.config/autostart."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))


@pytest.fixture
def synchronous_threads():
    """Background work runs at once on the test's thread (gui.threads' switch): no waiting."""
    from fedgui.gui import threads

    threads.run_synchronously(True)
    yield
    threads.run_synchronously(False)


@pytest.fixture
def profile_store(tmp_path: Path) -> ProfileStore:
    return ProfileStore(tmp_path / "profiles")


@pytest.fixture
def profiles(profile_store: ProfileStore, tmp_path: Path) -> list[Profile]:
    data = tmp_path / "data"
    data.mkdir()
    first = Profile.new("Hospital network", "https://fedn.example.org", data_folder=data, ready=True)
    second = Profile.new("Lab network", "http://localhost:8092", data_folder=data, ready=True)
    for profile in (first, second):
        profile_store.save(profile)
    return [first, second]


@pytest.fixture
def history(tmp_path: Path, profiles: list[Profile]):
    store = HistoryStore(tmp_path / "history.sqlite3")
    fill_history(store, profiles[0].id)
    fill_history(store, profiles[1].id, rounds=2, failed_rounds=())
    yield store
    store.close()


@pytest.fixture
def sessions() -> list[RecordingSession]:
    return []


@pytest.fixture
def secrets() -> RecordingSecrets:
    return RecordingSecrets()


@pytest.fixture
def window(qtbot, profiles, profile_store, history, sessions, secrets, tmp_path):
    from fedgui.gui.settings.dialog import PreferencesStore
    from fedgui.gui.threads import wait_for_background_work
    from fedgui.gui.window.main_window import MainWindow

    def factory(profile, bus):
        session = RecordingSession(profile, bus)
        sessions.append(session)
        return session

    main = MainWindow(
        profiles,
        profile_store=profile_store,
        history=history,
        secrets=secrets,
        session_factory=factory,
        preferences=PreferencesStore(tmp_path / "gui.ini"),
        current_profile_id=profiles[0].id,
    )
    qtbot.addWidget(main)
    main.show()
    qtbot.waitUntil(lambda: main.history_table.model.rowCount() > 0)
    yield main
    main.log_view.detach()
    wait_for_background_work(10_000)


def emit_from_thread(bus, *events: Event) -> None:
    """Emit like the session does: from another thread."""
    thread = threading.Thread(target=lambda: [bus.emit(e) for e in events])
    thread.start()
    thread.join()

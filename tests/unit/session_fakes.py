"""What the session unit tests stand on: a fake controller, a tiny compute package, and a
recorder of events.

The controller is faked because a real one needs a whole FEDn network (the interop tests in
tests/interop/test_session_*.py start one, and they are the proof that fedgui speaks FEDn). The
combiner is :class:`fedgui.core.protocol.testing.FakeCombiner`: a real gRPC server in this process
on loopback, so the session's real channel, heartbeats, task stream and model transfer run.
The compute package is real too: its entry points run as subprocesses of this test's Python.
"""

from __future__ import annotations

import json
import shutil
import sys
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fedgui.core.controller.client import Assignment, PublishedPackage
from fedgui.core.events import Event, LogLine, StateChanged, TaskFinished
from fedgui.core.package.checksum import sha256_file
from fedgui.core.protocol.generated import fedn_pb2 as pb
from fedgui.core.session.states import SessionState

FEDN_YAML = """\
entry_points:
  train:
    command: python train.py
  validate:
    command: python validate.py
"""

# Train "learns" by appending a byte; it (and validate) sleeps when the data folder says so, to
# leave time for a pause or a stop while it runs.
TRAIN_PY = """\
import json, os, sys, time
data = os.environ["FEDN_DATA_PATH"]
delay = os.path.join(data, "train-seconds")
if os.path.exists(delay):
    time.sleep(float(open(delay).read()))
model = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(model + b"+")
json.dump({"num_examples": 3}, open(sys.argv[2] + "-metadata", "w"))
print("trained", len(model), flush=True)
"""

VALIDATE_PY = """\
import json, os, sys, time
delay = os.path.join(os.environ["FEDN_DATA_PATH"], "validate-seconds")
if os.path.exists(delay):
    time.sleep(float(open(delay).read()))
model = open(sys.argv[1], "rb").read()
json.dump({"accuracy": 0.5, "size": len(model)}, open(sys.argv[2], "w"))
"""

PACKAGE_FILES = {"fedn.yaml": FEDN_YAML, "train.py": TRAIN_PY, "validate.py": VALIDATE_PY}


def write_package(dest: Path, files: dict[str, str] | None = None) -> Path:
    """A compute package archive as ``fedn package create`` makes it (files at the root)."""
    with tarfile.open(dest, "w:gz") as archive:
        for name, text in (files or PACKAGE_FILES).items():
            source = dest.parent / f".{dest.name}-{name}"
            source.write_text(text, encoding="utf-8")
            archive.add(source, arcname=name)
            source.unlink()
    return dest


def task(
    kind: str, model_id: str = "global-1", round_id: str | None = "1", session: str = "s1"
) -> pb.TaskRequest:
    data = {"round_id": round_id} if round_id else {}
    kinds = {"train": pb.MODEL_UPDATE, "validate": pb.MODEL_VALIDATION}
    return pb.TaskRequest(
        model_id=model_id, type=kinds[kind], session_id="s1", data=json.dumps(data), correlation_id="c1"
    )


class FakeController:
    """Stands in for FEDn's controller (what :class:`ControllerClient` offers the session):
    assigns the fake combiner, serves one package archive, and fails when a test says so."""

    def __init__(self, combiner_port: int, archive: Path) -> None:
        self.combiner_port = combiner_port
        self.archive = archive  # replace it to publish a new package
        self.assign_failures: list[BaseException] = []  # raised by the next assign calls, in order
        self.tokens: list[str | None] = []  # the token of each connection
        self.downloads = 0
        self.closed = 0
        self._lock = threading.Lock()

    def connect(self, profile, token: str | None) -> FakeController:
        """The session's controller factory."""
        self.tokens.append(token)
        return self

    def assign(self, client_id: str, name: str, preferred_combiner: str = "", **_waiting) -> Assignment:
        with self._lock:
            failure = self.assign_failures.pop(0) if self.assign_failures else None
        if failure is not None:
            raise failure
        # FEDn's binary helper: the fake models are plain bytes, which the numpy helper's
        # output check (an .npz of finite arrays) would rightly refuse.
        return Assignment("127.0.0.1", self.combiner_port, None, "binaryhelper", client_id, "remote", "")

    def package_checksum(self) -> str:
        return sha256_file(self.archive)

    def published_package(self) -> PublishedPackage:
        # FEDn names each upload afresh; the checksum stands in for that name here.
        return PublishedPackage(
            file_name=f"{sha256_file(self.archive)}.tgz", size=self.archive.stat().st_size
        )

    def download_package(self, dest_dir: Path, progress=None) -> Path:
        self.downloads += 1
        return Path(shutil.copyfile(self.archive, Path(dest_dir) / "package.tgz"))

    def close(self) -> None:
        self.closed += 1


@dataclass
class Recorder:
    """Every event the session emits, with waits."""

    events: list[Event] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # time.monotonic() of each event
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self.times.append(time.monotonic())
            self._cond.notify_all()

    def of(self, kind: type) -> list:
        with self._cond:
            return [e for e in self.events if isinstance(e, kind)]

    def finished(self) -> list[TaskFinished]:
        """The network's tasks that finished; the local preview of the first global model (kind
        "preview", run before the first training) is left out."""
        return [e for e in self.of(TaskFinished) if e.kind != "preview"]

    def states(self) -> list[SessionState]:
        return [e.state for e in self.of(StateChanged)]

    def stamps(self, state: SessionState) -> list[float]:
        """When the session entered ``state``, each time."""
        with self._cond:
            pairs = zip(self.events, self.times, strict=True)
            return [t for e, t in pairs if isinstance(e, StateChanged) and e.state is state]

    def log(self) -> str:
        return "\n".join(e.text for e in self.of(LogLine))

    def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out waiting for {what}; states: {[s.value for s in self.states()][-12:]}\n"
                        f"log:\n{self.log()[-2000:]}"
                    )
                self._cond.wait(min(remaining, 0.2))

    def wait_for_state(self, state: SessionState, count: int = 1, timeout: float = 20.0) -> None:
        self.wait_for(lambda: self.states().count(state) >= count, f"{state.value} x{count}", timeout)


PYTHON = sys.executable

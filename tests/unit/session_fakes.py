"""What the session unit tests stand on: a fake controller and a tiny compute package (the
recorder of events is tests/event_recorder.py, shared with the interop tests).

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
import threading
from pathlib import Path

from fedgui.core.controller.client import Assignment, PublishedPackage
from fedgui.core.package.checksum import sha256_file
from fedgui.core.protocol.generated import fedn_pb2 as pb
from tests.fednet.packages import FEDN_YAML, write_package_archive

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
    return write_package_archive(dest, files or PACKAGE_FILES)


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


PYTHON = sys.executable

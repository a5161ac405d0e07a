"""In-memory fixes that let FEDn 0.33 run whole sessions on SQLite and stay on loopback.

The harness puts this folder on PYTHONPATH only for the FEDn processes it starts (controller,
combiner, stock clients); Python imports ``sitecustomize`` at start-up. Each fix is applied when
its module is first imported, so a process that never touches SQLAlchemy, gunicorn or gRPC pays
nothing. Nothing on disk in the fedn venv is changed.

Why each fix (FEDn 0.33 ships its SQL statestore broken; MongoDB's lack of schema hides it):
1. The combiner stores ``str(datetime.now())`` and protobuf timestamp strings in DateTime
   columns; SQLite's DateTime type only takes datetime objects.
2. Round configs arrive as string maps (``"validate": "True"``); Boolean rejects strings.
3. FEDn leaves NOT NULL columns empty (``clients.combiner_preferred``, ``session_configs.rounds``).
4. FEDn binds 0.0.0.0 (REST) and [::] (gRPC) with no setting; tests must stay on 127.0.0.1.
5. Several gunicorn workers race in ``create_all`` on an empty database: use one worker
   (``FEDNET_GUNICORN_WORKERS``).
"""

from __future__ import annotations

import datetime as _dt
import importlib.abc
import importlib.util
import os
import re
import sys

LOOPBACK = os.environ.get("FEDNET_BIND_HOST", "127.0.0.1")
_WILDCARD_HOSTS = ("0.0.0.0", "[::]", "::", "")


def _parse_timestamp(text: str) -> _dt.datetime:
    text = text.strip().replace("Z", "+00:00")
    # Protobuf may give nanoseconds; datetime takes at most microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    return _dt.datetime.fromisoformat(text)


def _patch_sqlite_datetime(module) -> None:
    original = module.DATETIME.bind_processor

    def bind_processor(self, dialect):
        process = original(self, dialect)

        def accept_iso_strings(value):
            if isinstance(value, str):
                value = _parse_timestamp(value)
            return process(value)

        return accept_iso_strings

    module.DATETIME.bind_processor = bind_processor


def _patch_sqltypes(module) -> None:
    original_as_bool = module.Boolean._strict_as_bool
    words = {"true": True, "false": False}

    def strict_as_bool(self, value):
        if isinstance(value, str) and value.strip().lower() in words:
            value = words[value.strip().lower()]
        return original_as_bool(self, value)

    module.Boolean._strict_as_bool = strict_as_bool


def _patch_schema(module) -> None:
    original_create_all = module.MetaData.create_all

    def create_all(self, bind, *args, **kwargs):
        for table in self.tables.values():
            for column in table.columns:
                if not column.primary_key:
                    column.nullable = True
        return original_create_all(self, bind, *args, **kwargs)

    module.MetaData.create_all = create_all


def _loopback_bind(address: str) -> str:
    host, sep, port = address.rpartition(":")
    if sep and host in _WILDCARD_HOSTS:
        return f"{LOOPBACK}:{port}"
    return address


def _patch_gunicorn_config(module) -> None:
    original_set = module.Config.set

    def set_setting(self, name, value):
        if name == "bind":
            values = value if isinstance(value, list) else [value]
            value = [_loopback_bind(str(v)) for v in values]
        elif name == "workers" and os.environ.get("FEDNET_GUNICORN_WORKERS"):
            value = int(os.environ["FEDNET_GUNICORN_WORKERS"])
        return original_set(self, name, value)

    module.Config.set = set_setting


def _patch_grpc_server(module) -> None:
    server_class = module._Server
    for method_name in ("add_insecure_port", "add_secure_port"):
        original = getattr(server_class, method_name)

        def bind_loopback(self, address, *args, _original=original, **kwargs):
            return _original(self, _loopback_bind(address), *args, **kwargs)

        setattr(server_class, method_name, bind_loopback)


_PATCHES = {
    "sqlalchemy.dialects.sqlite.base": _patch_sqlite_datetime,
    "sqlalchemy.sql.sqltypes": _patch_sqltypes,
    "sqlalchemy.sql.schema": _patch_schema,
    "gunicorn.config": _patch_gunicorn_config,
    "grpc._server": _patch_grpc_server,
}


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the real loader of a patched module to patch after exec."""

    def find_spec(self, fullname, path, target=None):
        patch = _PATCHES.get(fullname)
        if patch is None:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return None
        loader = spec.loader
        original_exec = loader.exec_module

        def exec_then_patch(module):
            original_exec(module)
            patch(module)

        loader.exec_module = exec_then_patch
        return spec


if os.environ.get("FEDNET_PATCHES", "1") != "0":
    sys.meta_path.insert(0, _PatchAfterImport())

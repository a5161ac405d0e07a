"""Read a package's ``fedn.yaml`` and its ``python_env`` file into typed objects.

Same rules as FEDn 0.33 (``fedn/utils/dispatcher.py``, ``fedn/utils/environment.py``), but every
problem becomes a :class:`ManifestError` that names the file and the line or key, instead of a
crash in the middle of a training round.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fedgui.core.package.errors import NOTHING_RAN, ManifestError
from fedgui.core.package.requirement_files import outside_reference

MANIFEST_NAME = "fedn.yaml"
REQUIRED_ENTRY_POINTS = ("train", "validate")
#: The keys FEDn's ``_PythonEnv`` accepts; any other key makes FEDn raise TypeError.
PYTHON_ENV_KEYS = ("name", "python", "build_dependencies", "dependencies")
DEFAULT_ENV_NAME = "fedn_env"
#: How deep to look for fedn.yaml: FEDn takes the first folder that has one, walking top-down;
#: real packages have it at the top (fedn >= 0.22) or one folder down (older ``client/`` layout).
MAX_MANIFEST_DEPTH = 1
_SPEC_HASH_SCHEME = "fedgui-python-env-v1"


@dataclass(frozen=True)
class PythonEnvSpec:
    """The ``python_env`` file: which packages the entry points need."""

    name: str = DEFAULT_ENV_NAME
    python: str | None = None
    build_dependencies: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    source: Path | None = field(default=None, compare=False)

    def spec_hash(self, interpreter_version: str) -> str:
        """SHA-256 naming an environment built from this spec on ``interpreter_version``.

        Covers what changes the installed result: the interpreter version, the requested
        ``python`` and both dependency lists in order (order matters to pip). ``name`` is left
        out: FEDn uses it only as a folder name.
        """
        payload = {
            "scheme": _SPEC_HASH_SCHEME,
            "interpreter": interpreter_version,
            "python": self.python,
            "build_dependencies": list(self.build_dependencies),
            "dependencies": list(self.dependencies),
        }
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PackageManifest:
    """``fedn.yaml`` of a package: where it lives, its entry point commands, its python_env."""

    root: Path
    entry_points: dict[str, str]
    python_env: PythonEnvSpec | None = None

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_NAME


def _error(file_label: str, what: str, line: int | None = None) -> ManifestError:
    where = f"{file_label}, line {line}" if line else file_label
    return ManifestError(f"The compute package's {where}: {what}. {NOTHING_RAN}")


def find_package_root(unpacked: Path) -> Path:
    """The folder holding ``fedn.yaml``: ``unpacked`` itself or one folder down.

    When several folders at the same depth have one, FEDn would pick whichever the file system
    lists first; we refuse instead so the same archive always runs the same code.
    """
    level = [unpacked]
    for _depth in range(MAX_MANIFEST_DEPTH + 1):
        hits = [folder for folder in level if (folder / MANIFEST_NAME).is_file()]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            names = ", ".join(str(hit.relative_to(unpacked)) for hit in hits)
            raise ManifestError(
                f"The compute package has more than one {MANIFEST_NAME} ({names}), so it is unclear which "
                f"one to use. {NOTHING_RAN}"
            )
        level = sorted(
            child
            for folder in level
            for child in folder.iterdir()
            if child.is_dir() and not child.is_symlink()
        )
    raise ManifestError(
        f"The compute package has no {MANIFEST_NAME}, neither at the top nor one folder down. {NOTHING_RAN}"
    )


def _load_yaml(path: Path, label: str) -> tuple[Any, yaml.Node | None]:
    """Parsed data and the node tree (for line numbers) of a YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise _error(label, "it is not UTF-8 text") from error
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "it is not valid YAML"
        line = mark.line + 1 if mark is not None else None
        column = f", column {mark.column + 1}" if mark is not None else ""
        where = f"{label}, line {line}{column}" if line else label
        context = getattr(error, "context_mark", None)
        if context is not None and mark is not None and context.line != mark.line:
            # An unclosed bracket is reported where the file ends; say where it was opened too.
            problem = f"{problem} (the part that is not closed starts on line {context.line + 1})"
        raise ManifestError(
            f"The compute package's {where} is not valid YAML: {problem}. {NOTHING_RAN}"
        ) from error
    return data, node


def _child(node: yaml.Node | None, key: str) -> tuple[yaml.Node | None, int | None]:
    """The value node under ``key`` in a mapping node, and the 1-based line of the key."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == key:
                return value_node, key_node.start_mark.line + 1
    return None, None


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _parse_entry_points(raw: Any, node: yaml.Node | None, label: str) -> dict[str, str]:
    ep_node, ep_line = _child(node, "entry_points")
    if raw is None or "entry_points" not in raw:
        raise _error(label, "the key 'entry_points' is missing (it must list at least train and validate)")
    entries = raw["entry_points"]
    if not isinstance(entries, dict):
        raise _error(
            label, "'entry_points' must be a list of named entry points, each with a command", ep_line
        )
    commands: dict[str, str] = {}
    for name, entry in entries.items():
        entry_node, entry_line = _child(ep_node, str(name))
        if not isinstance(entry, dict) or "command" not in entry:
            raise _error(label, f"the entry point '{name}' has no 'command'", entry_line)
        command = entry["command"]
        if isinstance(command, (int, float)) and not isinstance(command, bool):
            command = str(command)
        if not isinstance(command, str) or not command.strip():
            _cmd_node, cmd_line = _child(entry_node, "command")
            raise _error(label, f"the command of entry point '{name}' must be a non-empty text", cmd_line)
        commands[str(name)] = command.strip()
    for required in REQUIRED_ENTRY_POINTS:
        if required not in commands:
            raise _error(label, f"the entry point '{required}' is missing under 'entry_points'", ep_line)
    return commands


def _text_list(value: Any, key: str, label: str, line: int | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, (str, int, float)) for item in value):
        raise _error(label, f"'{key}' must be a list of package requirements", line)
    return tuple(str(item).strip() for item in value if str(item).strip())


def load_python_env(path: Path, label: str, package_root: Path | None = None) -> PythonEnvSpec:
    """Parse a python_env file; unknown keys are refused, as FEDn does (it raises TypeError).
    With ``package_root``, requirement items that make pip read files outside it are refused."""
    raw, node = _load_yaml(path, label)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise _error(label, "it must be a mapping with name, python, build_dependencies and dependencies")
    for key in raw:
        if key not in PYTHON_ENV_KEYS:
            _value, line = _child(node, str(key))
            allowed = ", ".join(PYTHON_ENV_KEYS)
            raise _error(label, f"the key '{key}' is not allowed (FEDn accepts only {allowed})", line)
    name_value = raw.get("name") or DEFAULT_ENV_NAME
    python_node, _python_line = _child(node, "python")
    python = raw.get("python")
    if python is not None:
        # "python: 3.10" reads as the float 3.1; the node keeps the text that was written.
        python = python_node.value if isinstance(python_node, yaml.ScalarNode) else str(python)
    lists = {}
    for key in ("build_dependencies", "dependencies"):
        _value, line = _child(node, key)
        lists[key] = _text_list(raw.get(key), key, label, line)
        outside = (
            outside_reference(lists[key], path.parent, package_root) if package_root is not None else None
        )
        if outside is not None:
            raise _error(
                label,
                f"'{key}' makes pip read a file outside the package ('{outside}'); a package may only "
                "use its own files",
                line,
            )
    return PythonEnvSpec(
        name=str(name_value),
        python=python,
        build_dependencies=lists["build_dependencies"],
        dependencies=lists["dependencies"],
        source=path,
    )


def load_manifest(root: Path) -> PackageManifest:
    """Parse ``root/fedn.yaml`` (``root`` = the package root, see :func:`find_package_root`)."""
    path = root / MANIFEST_NAME
    label = MANIFEST_NAME
    if not path.is_file():
        raise _error(label, "the file is missing")
    raw, node = _load_yaml(path, label)
    if raw is not None and not isinstance(raw, dict):
        raise _error(label, "it must be a mapping with 'entry_points' (and optionally 'python_env')", 1)
    entry_points = _parse_entry_points(raw, node, label)
    python_env = None
    env_name = raw.get("python_env") if raw is not None else None
    if env_name is not None:
        _value, env_line = _child(node, "python_env")
        if not isinstance(env_name, str) or not env_name.strip():
            raise _error(label, "'python_env' must be the name of a file in the package", env_line)
        env_path = root / env_name.strip()
        real_root = os.path.realpath(root)
        if os.path.commonpath([real_root, os.path.realpath(env_path)]) != real_root:
            raise _error(label, f"'python_env' points outside the package ('{env_name}')", env_line)
        if not env_path.is_file():
            raise _error(
                label, f"'python_env' names '{env_name}', but the package has no such file", env_line
            )
        python_env = load_python_env(env_path, env_name.strip(), root)
    return PackageManifest(root=root, entry_points=entry_points, python_env=python_env)

"""Builders for real tar archives used by the package tests (this module holds no tests)."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

GOOD_FEDN_YAML = """\
python_env: python_env.yaml
entry_points:
  build:
    command: python model.py
  startup:
    command: python data.py
  train:
    command: python train.py
  validate:
    command: python validate.py
"""

GOOD_PYTHON_ENV = """\
name: mnist-env
python: 3.10
build_dependencies:
  - pip
  - setuptools
dependencies:
  - numpy==1.26.4
  - fedn
"""


@dataclass
class Member:
    """One tar member: a file (data), a folder, a symlink or hardlink (link), or a special type."""

    name: str
    data: bytes | None = None
    kind: bytes = tarfile.REGTYPE
    link: str = ""
    mode: int = 0o644


def file(name: str, text: str | bytes, mode: int = 0o644) -> Member:
    return Member(name, text.encode() if isinstance(text, str) else text, mode=mode)


def folder(name: str) -> Member:
    return Member(name, kind=tarfile.DIRTYPE, mode=0o755)


def symlink(name: str, target: str) -> Member:
    return Member(name, kind=tarfile.SYMTYPE, link=target, mode=0o777)


def hardlink(name: str, target: str) -> Member:
    return Member(name, kind=tarfile.LNKTYPE, link=target)


def good_members(prefix: str = "") -> list[Member]:
    return [
        file(f"{prefix}fedn.yaml", GOOD_FEDN_YAML),
        file(f"{prefix}python_env.yaml", GOOD_PYTHON_ENV),
        file(f"{prefix}train.py", "print('train')\n", mode=0o755),
        file(f"{prefix}validate.py", "print('validate')\n"),
        file(f"{prefix}data/weights.bin", bytes(range(256)) * 4),
    ]


def make_tar(path: Path, members: list[Member], compression: str = "gz") -> Path:
    """Write ``members`` to ``path`` as a tar (compression: "gz", "bz2", "xz" or "" for plain)."""
    mode = f"w:{compression}" if compression else "w"
    with tarfile.open(path, mode, format=tarfile.GNU_FORMAT) as tar:
        for member in members:
            info = tarfile.TarInfo(member.name)
            info.type = member.kind
            info.mode = member.mode
            info.linkname = member.link
            if member.kind == tarfile.REGTYPE:
                data = member.data or b""
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return path


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}

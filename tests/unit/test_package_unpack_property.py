"""Property: whatever the archive holds, safe_unpack either refuses it or keeps everything inside dest."""

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedgui.core.package.errors import PackageError
from fedgui.core.package.unpack import UnpackLimits, safe_unpack
from tests.unit.test_package_support import Member, file, folder, hardlink, make_tar, symlink

# Placeholder for an absolute path pointing into the sentinel folder, filled in per example, so a
# write through an absolute link would show up as a change inside the sentinel.
ABSOLUTE = "<ABS>"

# Ordinary names are repeated so that plenty of examples unpack and the "inside" half is exercised too.
components = st.sampled_from(["a"] * 5 + ["b"] * 5 + ["c.txt"] * 4 + ["..", ".", "", ABSOLUTE])
paths = st.lists(components, min_size=1, max_size=4).map("/".join)
rooted = st.tuples(st.integers(0, 9).map(lambda n: n == 0), paths).map(
    lambda pair: ("/" if pair[0] else "") + pair[1]
)


@st.composite
def members(draw):
    kind = draw(st.sampled_from(["file", "folder", "symlink", "hardlink"]))
    name = draw(rooted)
    if kind == "file":
        return file(name, draw(st.binary(max_size=64)))
    if kind == "folder":
        return folder(name)
    target = draw(rooted)
    return symlink(name, target) if kind == "symlink" else hardlink(name, target)


def _resolve(member: Member, absolute: str) -> Member:
    member.name = member.name.replace(ABSOLUTE, absolute)
    member.link = member.link.replace(ABSOLUTE, absolute)
    return member


def _snapshot(root: Path) -> dict[str, bytes | str | None]:
    state: dict[str, bytes | str | None] = {}
    for current, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(current) / name
            key = path.relative_to(root).as_posix()
            if path.is_symlink():
                state[key] = "link:" + os.readlink(path)
            elif path.is_file():
                state[key] = path.read_bytes()
            else:
                state[key] = None
    return state


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(members(), min_size=1, max_size=8))
def test_unpack_never_writes_outside_dest(member_list):
    with tempfile.TemporaryDirectory() as scratch:
        sentinel = Path(scratch) / "sentinel"
        parent = sentinel / "1" / "2" / "3" / "4" / "5"
        parent.mkdir(parents=True)
        (sentinel / "abs").mkdir()
        (sentinel / "abs" / "c.txt").write_bytes(b"precious")
        absolute = str(sentinel / "abs")
        archive = make_tar(Path(scratch) / "pkg.tgz", [_resolve(m, absolute) for m in member_list])
        before = _snapshot(sentinel)
        dest = parent / "dest"
        try:
            safe_unpack(archive, dest, UnpackLimits(max_members=50, max_total_bytes=10_000))
        except PackageError:
            assert _snapshot(sentinel) == before  # refused: nothing written, nothing left behind
            return
        after = _snapshot(sentinel)
        outside = {key: value for key, value in after.items() if not key.startswith("1/2/3/4/5/dest")}
        assert outside == before
        real_dest = os.path.realpath(dest)
        for current, dirnames, filenames in os.walk(dest):
            for name in dirnames + filenames:
                resolved = os.path.realpath(Path(current) / name)
                assert os.path.commonpath([real_dest, resolved]) == real_dest

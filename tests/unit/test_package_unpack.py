import os
import stat
import tarfile
import zipfile

import pytest

from fedgui.core.package.errors import ArchiveTooLarge, PackageError, UnsafeArchive, UnsupportedArchive
from fedgui.core.package.unpack import UnpackLimits, safe_unpack
from tests.unit.test_package_support import (
    Member,
    file,
    files_under,
    folder,
    good_members,
    hardlink,
    make_tar,
    symlink,
)


@pytest.fixture
def sentinel(tmp_path):
    """A parent folder whose only child after any unpack may be ``dest``."""
    parent = tmp_path / "sentinel" / "a" / "b"
    parent.mkdir(parents=True)
    return parent


def _unpack(tmp_path, sentinel, members, compression="gz", limits=None):
    archive = make_tar(tmp_path / "pkg.bin", members, compression)
    return safe_unpack(archive, sentinel / "dest", limits or UnpackLimits())


def _assert_nothing_left(tmp_path, sentinel):
    assert list(sentinel.iterdir()) == []  # no dest, no half-unpacked staging folder
    assert files_under(tmp_path / "sentinel") == {"a", "a/b"}


@pytest.mark.parametrize("compression", ["gz", "bz2", "xz", ""])
def test_good_package_unpacks(tmp_path, sentinel, compression):
    dest = _unpack(tmp_path, sentinel, good_members(), compression)
    assert files_under(dest) == {
        "fedn.yaml",
        "python_env.yaml",
        "train.py",
        "validate.py",
        "data",
        "data/weights.bin",
    }
    assert (dest / "data" / "weights.bin").read_bytes() == bytes(range(256)) * 4
    assert [p.name for p in sentinel.iterdir()] == ["dest"]


def test_top_folder_layout_and_dot_slash_names(tmp_path, sentinel):
    members = [folder("./"), folder("./client"), *good_members("./client/")]
    dest = _unpack(tmp_path, sentinel, members)
    assert (dest / "client" / "fedn.yaml").is_file()


def test_exec_bit_kept_and_setuid_dropped(tmp_path, sentinel):
    members = [file("run.sh", "#!/bin/sh\n", mode=0o4755), file("plain.txt", "x", mode=0o2644)]
    dest = _unpack(tmp_path, sentinel, members)
    run_mode = stat.S_IMODE((dest / "run.sh").stat().st_mode)
    plain_mode = stat.S_IMODE((dest / "plain.txt").stat().st_mode)
    assert run_mode & stat.S_IXUSR
    assert not run_mode & (stat.S_ISUID | stat.S_ISGID)
    assert not plain_mode & (stat.S_ISUID | stat.S_ISGID)


def test_internal_links_are_allowed(tmp_path, sentinel):
    members = [
        *good_members(),
        symlink("latest.bin", "data/weights.bin"),
        symlink("data/up.yaml", "../fedn.yaml"),
        hardlink("copy.py", "train.py"),
    ]
    dest = _unpack(tmp_path, sentinel, members)
    assert (dest / "latest.bin").read_bytes() == (dest / "data" / "weights.bin").read_bytes()
    assert (dest / "data" / "up.yaml").read_text() == (dest / "fedn.yaml").read_text()
    assert os.path.samefile(dest / "copy.py", dest / "train.py")


def test_later_member_replaces_earlier_file(tmp_path, sentinel):
    dest = _unpack(tmp_path, sentinel, [file("a.txt", "old"), file("a.txt", "new")])
    assert (dest / "a.txt").read_text() == "new"


@pytest.mark.parametrize(
    ("members", "words"),
    [
        ([file("../evil.txt", "x")], "outside"),
        ([file("ok/../../evil.txt", "x")], "outside"),
        ([file("/tmp/evil.txt", "x")], "absolute"),
        ([file("C:/evil.txt", "x")], "absolute"),
        ([symlink("link", "/etc")], "outside"),
        ([symlink("link", "../../..")], "outside"),
        ([folder("d"), symlink("d/link", "../..")], "outside"),
        ([hardlink("passwd", "/etc/passwd")], "absolute"),
        ([hardlink("passwd", "../../etc/passwd")], "outside"),
        ([hardlink("h", "missing.txt")], "not a file"),
        ([Member("dev", kind=tarfile.CHRTYPE)], "device"),
        ([Member("blk", kind=tarfile.BLKTYPE)], "device"),
        ([Member("pipe", kind=tarfile.FIFOTYPE)], "fifo"),
    ],
)
def test_hostile_members_are_refused(tmp_path, sentinel, members, words):
    with pytest.raises(UnsafeArchive) as caught:
        _unpack(tmp_path, sentinel, [*good_members(), *members])
    assert words in str(caught.value)
    assert "Nothing from it was run" in str(caught.value)
    _assert_nothing_left(tmp_path, sentinel)


def test_write_through_internal_symlink_is_refused(tmp_path, sentinel):
    # "d" is a harmless link to a folder inside, but a later member must not be written through it.
    members = [folder("real"), symlink("d", "real"), file("d/x.txt", "x")]
    with pytest.raises(UnsafeArchive, match="through a link"):
        _unpack(tmp_path, sentinel, members)
    _assert_nothing_left(tmp_path, sentinel)


def test_symlink_chain_escape_is_refused(tmp_path, sentinel):
    # Each link looks harmless on its own; followed together, "a" resolves to the parent of dest.
    members = [symlink("a", "c/.."), symlink("c", ".")]
    with pytest.raises(UnsafeArchive, match="through other links"):
        _unpack(tmp_path, sentinel, members)
    _assert_nothing_left(tmp_path, sentinel)


def test_member_count_bomb(tmp_path, sentinel):
    members = [file(f"f{i}.txt", "x") for i in range(51)]
    with pytest.raises(ArchiveTooLarge, match="more than 50 files"):
        _unpack(tmp_path, sentinel, members, limits=UnpackLimits(max_members=50))
    _assert_nothing_left(tmp_path, sentinel)


def test_size_bomb_of_highly_compressible_data(tmp_path, sentinel):
    members = [file("zeros.bin", bytes(20 * 1024 * 1024))]
    archive = make_tar(tmp_path / "bomb.tgz", members)
    assert archive.stat().st_size < 100_000  # tiny archive, 20 MB inside
    with pytest.raises(ArchiveTooLarge, match="over the limit"):
        safe_unpack(archive, sentinel / "dest", UnpackLimits(max_total_bytes=5 * 1024 * 1024))
    _assert_nothing_left(tmp_path, sentinel)


def test_size_counts_bytes_written_across_members(tmp_path, sentinel):
    members = [file(f"part{i}.bin", bytes(400_000)) for i in range(3)]
    with pytest.raises(ArchiveTooLarge):
        _unpack(tmp_path, sentinel, members, limits=UnpackLimits(max_total_bytes=1_000_000))
    _assert_nothing_left(tmp_path, sentinel)


def test_zip_is_not_supported(tmp_path, sentinel):
    archive = tmp_path / "package.tgz"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("fedn.yaml", "entry_points: {}\n")
    with pytest.raises(UnsupportedArchive, match="zip file"):
        safe_unpack(archive, sentinel / "dest")
    _assert_nothing_left(tmp_path, sentinel)


def test_truncated_archive_is_reported_as_damaged(tmp_path, sentinel):
    archive = make_tar(tmp_path / "pkg.tgz", [file("big.bin", os.urandom(300_000)), *good_members()])
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnsupportedArchive, match="damaged"):
        safe_unpack(archive, sentinel / "dest")
    _assert_nothing_left(tmp_path, sentinel)


def test_existing_destination_is_not_touched(tmp_path, sentinel):
    (sentinel / "dest").mkdir()
    (sentinel / "dest" / "keep.txt").write_text("keep")
    archive = make_tar(tmp_path / "pkg.tgz", good_members())
    with pytest.raises(FileExistsError):
        safe_unpack(archive, sentinel / "dest")
    assert files_under(sentinel) == {"dest", "dest/keep.txt"}


def test_error_messages_are_plain(tmp_path, sentinel):
    with pytest.raises(PackageError) as caught:
        _unpack(tmp_path, sentinel, [file("../x", "x")])
    text = str(caught.value)
    assert "Traceback" not in text
    assert "network operator" in text


@pytest.mark.parametrize("compression", ["gz", "bz2", "xz", ""])
def test_bytes_read_while_unpacking_are_verified(tmp_path, sentinel, compression):
    from fedgui.core.package.checksum import sha256_file
    from fedgui.core.package.errors import ChecksumMismatch

    archive = make_tar(tmp_path / "pkg", good_members(), compression)
    right = sha256_file(archive)
    assert safe_unpack(archive, sentinel / "dest", expected_sha256=right.upper()) == sentinel / "dest"
    with pytest.raises(ChecksumMismatch):
        safe_unpack(archive, sentinel / "other", expected_sha256="0" * 64)
    assert [p.name for p in sentinel.iterdir()] == ["dest"]

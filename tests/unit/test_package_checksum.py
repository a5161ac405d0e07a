import hashlib
import zipfile

import pytest

from fedgui.core.package.archive_type import detect_archive_type
from fedgui.core.package.checksum import normalize_checksum, sha256_file, sha256_folder
from tests.unit.test_package_support import good_members, make_tar


def test_sha256_file_matches_hashlib_over_several_chunks(tmp_path):
    data = bytes(range(256)) * 20_000  # ~5 MB, more than one 1 MiB chunk
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert sha256_file(path, chunk_size=7) == hashlib.sha256(data).hexdigest()


def test_sha256_of_empty_file(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert sha256_file(path) == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize(
    ("compression", "name", "expected"),
    [
        ("gz", "3f1c.gz", "gzip"),  # a .tar.gz upload comes back named <uuid>.gz
        ("gz", "package.tgz", "gzip"),
        ("bz2", "package.zip", "bzip2"),  # the name is never trusted
        ("xz", "pkg", "xz"),
        ("", "pkg.tar.gz", "tar"),
    ],
)
def test_detect_archive_type_from_content(tmp_path, compression, name, expected):
    path = make_tar(tmp_path / name, good_members(), compression)
    assert detect_archive_type(path) == expected


def test_detect_zip_and_unknown(tmp_path):
    zpath = tmp_path / "pkg.tgz"
    with zipfile.ZipFile(zpath, "w") as archive:
        archive.writestr("fedn.yaml", "x")
    assert detect_archive_type(zpath) == "zip"
    other = tmp_path / "other.tgz"
    other.write_bytes(b"hello world")
    assert detect_archive_type(other) == "unknown"


def test_normalize_checksum():
    digest = "A" * 64
    assert normalize_checksum(f"  {digest}\n") == "a" * 64
    assert normalize_checksum("abc") is None
    assert normalize_checksum("../" + "a" * 61) is None


def _write_package(root):
    (root / "sub").mkdir(parents=True)
    (root / "fedn.yaml").write_text("entry_points: {}\n")
    (root / "sub" / "train.py").write_text("print(1)\n")


def test_folder_checksum_is_deterministic_and_ignores_caches(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    _write_package(first)
    _write_package(second)
    assert sha256_folder(first) == sha256_folder(second)
    # Running a package writes bytecode and FEDn-style runs make a venv: neither changes the checksum.
    (second / "sub" / "__pycache__").mkdir()
    (second / "sub" / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"\0junk")
    (second / "fedn_env").mkdir()
    (second / "fedn_env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert sha256_folder(first) == sha256_folder(second)


def test_folder_checksum_changes_with_content_and_names(tmp_path):
    root = tmp_path / "pkg"
    _write_package(root)
    before = sha256_folder(root)
    (root / "sub" / "train.py").write_text("print(2)\n")
    edited = sha256_folder(root)
    assert edited != before
    (root / "sub" / "train.py").rename(root / "sub" / "train2.py")
    assert sha256_folder(root) not in (before, edited)
    # Moving bytes across the name/content boundary must not collide.
    other = tmp_path / "other"
    other.mkdir()
    (other / "ab").write_bytes(b"c")
    again = tmp_path / "again"
    again.mkdir()
    (again / "a").write_bytes(b"bc")
    assert sha256_folder(other) != sha256_folder(again)

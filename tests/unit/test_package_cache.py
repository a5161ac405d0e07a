import hashlib

import pytest

from fedgui.core import paths
from fedgui.core.package.approval import is_approved, require_approval
from fedgui.core.package.cache import PackageCache
from fedgui.core.package.checksum import sha256_file
from fedgui.core.package.errors import ChecksumMismatch, ManifestError, PackageNotApproved, UnsafeArchive
from tests.unit.test_package_support import file, good_members, make_tar


def _entries(cache: PackageCache) -> list[str]:
    return sorted(p.name for p in cache.root.iterdir()) if cache.root.exists() else []


@pytest.mark.parametrize(("prefix", "name"), [("", "0f3c9a.gz"), ("client/", "package.tgz")])
def test_prepare_both_layouts(tmp_path, prefix, name):
    archive = make_tar(tmp_path / name, good_members(prefix))
    checksum = hashlib.sha256(archive.read_bytes()).hexdigest()
    cache = PackageCache()
    package = cache.prepare(archive, expected_checksum=checksum.upper())
    assert package.checksum == checksum
    assert package.archive_size == archive.stat().st_size
    assert package.root == cache.root / checksum / "files" / prefix.rstrip("/")
    assert package.manifest.entry_points["train"] == "python train.py"
    assert package.manifest.python_env.dependencies == ("numpy==1.26.4", "fedn")
    assert cache.root == paths.cache_dir() / "packages"
    assert _entries(cache) == [checksum]


def test_prepare_is_once_per_checksum_and_get_finds_it(tmp_path):
    archive = make_tar(tmp_path / "pkg.tgz", good_members())
    cache = PackageCache(tmp_path / "cache")
    first = cache.prepare(archive)
    marker = first.root / "marker.txt"
    marker.write_text("still here")  # a second prepare must not unpack again
    assert cache.prepare(archive) == first
    assert marker.exists()
    assert cache.get(first.checksum) == first
    assert cache.get("f" * 64) is None
    assert cache.get("../../etc") is None
    cache.remove(first.checksum)
    assert cache.get(first.checksum) is None


def test_tampered_archive_leaves_cache_empty(tmp_path):
    archive = make_tar(tmp_path / "pkg.tgz", good_members())
    announced = sha256_file(archive)
    data = bytearray(archive.read_bytes())
    data[-1] ^= 0xFF
    archive.write_bytes(bytes(data))
    cache = PackageCache(tmp_path / "cache")
    with pytest.raises(ChecksumMismatch) as caught:
        cache.prepare(archive, expected_checksum=announced)
    text = str(caught.value)
    assert announced in text and sha256_file(archive) in text
    assert "not unpacked" in text and "last approved package stays in use" in text
    assert _entries(cache) == []


def test_hostile_archive_leaves_cache_empty(tmp_path):
    archive = make_tar(tmp_path / "pkg.tgz", [*good_members(), file("../../escape.txt", "x")])
    cache = PackageCache(tmp_path / "cache")
    with pytest.raises(UnsafeArchive):
        cache.prepare(archive)
    assert _entries(cache) == []
    assert not (tmp_path / "escape.txt").exists()


def test_broken_manifest_is_not_cached(tmp_path):
    archive = make_tar(tmp_path / "pkg.tgz", [file("fedn.yaml", "entry_points:\n  train: {command: x}\n")])
    cache = PackageCache(tmp_path / "cache")
    with pytest.raises(ManifestError):
        cache.prepare(archive)
    assert _entries(cache) == []


def test_prepare_folder_uses_folder_in_place(tmp_path):
    archive = make_tar(tmp_path / "pkg.tgz", good_members("client/"))
    unpacked = PackageCache(tmp_path / "cache").prepare(archive).top
    package = PackageCache(tmp_path / "other").prepare_folder(unpacked)
    assert package.root == unpacked.resolve() / "client"
    assert package.archive_size is None
    assert len(package.checksum) == 64
    again = PackageCache(tmp_path / "other").prepare_folder(unpacked)
    assert again.checksum == package.checksum
    (package.root / "train.py").write_text("print('changed')\n")
    assert PackageCache(tmp_path / "other").prepare_folder(unpacked).checksum != package.checksum


def test_require_approval():
    checksum = "ab" * 32
    require_approval(checksum, ["cd" * 32, checksum.upper()])
    assert is_approved(f" {checksum}\n", [checksum])
    with pytest.raises(PackageNotApproved) as caught:
        require_approval(checksum, ["cd" * 32])
    text = str(caught.value)
    assert checksum in text
    assert "Review → Approve" in text
    assert f"--approve {checksum}" in text


def test_prune_removes_unapproved_and_superseded_packages_once_unused(tmp_path):
    import os
    import time

    cache = PackageCache(tmp_path / "cache")
    versions = []
    for n in range(4):
        members = [*good_members(), file("version.txt", f"{n}\n")]
        versions.append(cache.prepare(make_tar(tmp_path / f"v{n}.tgz", members)).checksum)
    current, last_approved, superseded, never_approved = versions
    crashed = cache.root / ".0123456789abcdef.xyz.partial"
    crashed.mkdir()
    old = time.time() - 30 * 86400
    for entry in cache.root.iterdir():
        for path in (entry, entry / "info.json"):
            if path.exists():
                os.utime(path, (old, old))
    cache.get(superseded)  # used just now (another profile): kept this time
    removed = cache.prune(keep=[current, last_approved])
    assert sorted(removed) == sorted([never_approved])
    assert _entries(cache) == sorted([current, last_approved, superseded])
    assert not crashed.exists()

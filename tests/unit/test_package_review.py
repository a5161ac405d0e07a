from fedgui.core.package.cache import PackageCache
from fedgui.core.package.review import build_review
from tests.unit.test_package_support import file, good_members, make_tar, symlink


def _prepare(tmp_path, name, members):
    return PackageCache(tmp_path / "cache").prepare(make_tar(tmp_path / name, members))


def test_review_of_first_package(tmp_path):
    package = _prepare(tmp_path, "v1.tgz", good_members())
    review = build_review(package)
    assert review.checksum == package.checksum
    assert review.archive_size == package.archive_size
    assert review.entry_points["validate"] == "python validate.py"
    assert review.build_dependencies == ("pip", "setuptools")
    assert review.dependencies == ("numpy==1.26.4", "fedn")
    sizes = {item.path: item.size for item in review.files}
    assert sizes["data/weights.bin"] == 1024
    assert sizes["train.py"] == len("print('train')\n")
    assert review.total_size == sum(sizes.values())
    assert not review.is_update
    assert review.added == review.removed == review.changed == []


def test_review_against_previous_package(tmp_path):
    old = _prepare(tmp_path, "v1.tgz", good_members())
    members = [m for m in good_members() if m.name != "validate.py"]
    members = [
        file("train.py", "print('train')\nprint('faster')\n") if m.name == "train.py" else m for m in members
    ]
    members += [
        file("extra/notes.md", "hello\n"),
        file("data/new.bin", b"\0\1\2"),
        symlink("w", "data/weights.bin"),
    ]
    new = _prepare(tmp_path, "v2.tgz", members)
    review = build_review(new, previous=old)
    assert review.is_update
    assert review.previous_checksum == old.checksum
    assert review.added == ["data/new.bin", "extra/notes.md", "w"]
    assert review.removed == ["validate.py"]
    assert review.changed == ["train.py"]
    diff = review.text_diff("train.py")
    assert diff.startswith("--- a/train.py\n+++ b/train.py\n")
    assert "+print('faster')\n" in diff
    assert review.text_diff("extra/notes.md").endswith("+hello\n")
    assert review.text_diff("validate.py").endswith("-print('validate')\n")
    assert review.text_diff("data/new.bin") is None  # binary
    assert review.text_diff("../../etc/passwd") is None


def test_review_across_layouts_compares_package_roots(tmp_path):
    old = _prepare(tmp_path, "old.tgz", good_members("client/"))
    new = _prepare(tmp_path, "new.tgz", good_members())
    review = build_review(new, previous=old)
    assert review.added == review.removed == review.changed == []

"""The compute-package gate: verify, unpack safely, read the manifest, review, require approval.

Nothing in here runs package code; it only decides whether a package may be run later.
"""

from fedgui.core.package.approval import is_approved, require_approval
from fedgui.core.package.archive_type import detect_archive_type
from fedgui.core.package.cache import PackageCache, PreparedPackage
from fedgui.core.package.checksum import normalize_checksum, sha256_file, sha256_folder
from fedgui.core.package.errors import (
    ArchiveTooLarge,
    ChecksumMismatch,
    ManifestError,
    PackageError,
    PackageNotApproved,
    UnsafeArchive,
    UnsupportedArchive,
)
from fedgui.core.package.manifest import (
    PackageManifest,
    PythonEnvSpec,
    find_package_root,
    load_manifest,
    load_python_env,
)
from fedgui.core.package.review import PackageReview, ReviewFile, build_review, unified_text_diff
from fedgui.core.package.unpack import UnpackLimits, safe_unpack

__all__ = [
    "ArchiveTooLarge",
    "ChecksumMismatch",
    "ManifestError",
    "PackageCache",
    "PackageError",
    "PackageManifest",
    "PackageNotApproved",
    "PackageReview",
    "PreparedPackage",
    "PythonEnvSpec",
    "ReviewFile",
    "UnpackLimits",
    "UnsafeArchive",
    "UnsupportedArchive",
    "build_review",
    "detect_archive_type",
    "find_package_root",
    "is_approved",
    "load_manifest",
    "load_python_env",
    "normalize_checksum",
    "require_approval",
    "safe_unpack",
    "sha256_file",
    "sha256_folder",
    "unified_text_diff",
]

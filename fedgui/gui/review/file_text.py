"""Reading a package file for the viewer (blocking: call from a worker thread)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fedgui.core.package.review import PackageReview

MAX_VIEW_BYTES = 512 * 1024


@dataclass(frozen=True)
class FileView:
    path: str
    text: str | None  # None: not shown as text
    note: str  # why not, or "" when text is set
    diff: str | None = None  # unified diff against the approved version, for changed text files


def load_file_view(review: PackageReview, path: str, with_diff: bool) -> FileView:
    note = ""
    text: str | None = None
    file_path = review.root / path
    if ".." in Path(path).parts:
        note = "This file lies outside the package folder and is not shown."
    elif not file_path.exists():
        note = "This file was removed in this version."
    elif file_path.is_symlink():
        note = "This is a link to another file; links are not opened here."
    elif file_path.stat().st_size > MAX_VIEW_BYTES:
        note = f"This file is larger than {MAX_VIEW_BYTES // 1024} KB and is not shown here."
    else:
        data = file_path.read_bytes()
        if b"\0" in data[:8192]:
            note = "This is a binary file (not text), so it cannot be shown here."
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                note = "This file is not UTF-8 text, so it cannot be shown here."
    diff = review.text_diff(path) if with_diff else None
    return FileView(path, text, note, diff)

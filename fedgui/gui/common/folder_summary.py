"""What is in the data folder, in words: counted on a worker thread, shown on the page."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from fedgui.gui.common.message import MessageBox, Tone
from fedgui.gui.common.transfer_progress import format_size

#: Stop counting after this many files: a summary must not take minutes on a huge share.
MAX_FILES_COUNTED = 200_000
FIRST_NAMES_SHOWN = 5


@dataclass(frozen=True)
class FolderContents:
    folder: Path
    file_count: int
    total_bytes: int
    first_names: list[str] = field(default_factory=list)
    unreadable: int = 0
    counting_stopped: bool = False
    problem: str | None = None  # set when the folder itself cannot be used

    @property
    def is_empty(self) -> bool:
        return self.problem is None and self.file_count == 0


def summarize_folder(folder: Path, max_files: int = MAX_FILES_COUNTED) -> FolderContents:
    """Count files and bytes below ``folder``. Blocking: call it from a worker thread."""
    folder = Path(folder)
    if not folder.exists():
        return FolderContents(folder, 0, 0, problem="This folder does not exist.")
    if not folder.is_dir():
        return FolderContents(folder, 0, 0, problem="This is a file, not a folder.")
    if not os.access(folder, os.R_OK | os.X_OK):
        return FolderContents(folder, 0, 0, problem="fedgui is not allowed to read this folder.")
    count = total = unreadable = 0
    names: list[str] = []
    stopped = False
    errors: list[OSError] = []
    for current, dirnames, filenames in os.walk(folder, onerror=errors.append):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(current) / name
            try:
                total += path.stat().st_size
            except OSError:
                unreadable += 1
                continue
            count += 1
            if len(names) < FIRST_NAMES_SHOWN:
                names.append(path.relative_to(folder).as_posix())
            if count >= max_files:
                stopped = True
                break
        if stopped:
            break
    return FolderContents(folder, count, total, names, unreadable + len(errors), stopped)


def describe_contents(contents: FolderContents) -> tuple[str, Tone]:
    """One or two plain sentences about the folder, and how worrying they are."""
    if contents.problem:
        return f"{contents.problem} Choose another folder.", Tone.ERROR
    if contents.is_empty:
        return (
            "This folder has no files. The package will find no data to train on. "
            "Choose the folder that holds your data.",
            Tone.WARNING,
        )
    more = "+" if contents.counting_stopped else ""
    files = "file" if contents.file_count == 1 else "files"
    text = f"{contents.file_count:,}{more} {files}, {format_size(contents.total_bytes)} in total"
    if contents.first_names:
        text += ", for example: " + ", ".join(contents.first_names)
    text += "."
    if contents.unreadable:
        text += f" {contents.unreadable} item(s) could not be read; the package may not see them."
        return text, Tone.WARNING
    return text, Tone.OK


class FolderSummary(QWidget):
    """Shows a :class:`FolderContents` (or "counting…") under a folder field."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.message = MessageBox(self)
        self.message.setAccessibleName("Data folder summary")
        layout.addWidget(self.message)
        self.contents: FolderContents | None = None
        self.clear()

    def clear(self) -> None:
        self.contents = None
        self.message.show_text("No folder chosen yet.", Tone.INFO)

    def show_counting(self, folder: Path) -> None:
        self.contents = None
        self.message.show_text(f"Looking at {folder}…", Tone.BUSY)

    def show_contents(self, contents: FolderContents) -> None:
        self.contents = contents
        text, tone = describe_contents(contents)
        self.message.show_text(text, tone)

    def label(self) -> QLabel:
        return self.message.text_label

"""The package's files as a tree model: name, size, and (for an update) what changed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QStyle

from fedgui.core.package.review import PackageReview
from fedgui.gui.common.transfer_progress import format_size

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
CHANGE_ROLE = Qt.ItemDataRole.UserRole + 2

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
COLUMNS = ("Name", "Size", "Since approved version")


def change_of(review: PackageReview, path: str) -> str:
    if path in review.added:
        return ADDED
    if path in review.changed:
        return CHANGED
    return ""


def build_file_model(review: PackageReview) -> QStandardItemModel:
    """Folders first level by level; each file item carries its relative path in PATH_ROLE."""
    model = QStandardItemModel()
    model.setHorizontalHeaderLabels(list(COLUMNS))
    style = QApplication.style()
    folder_icon = style.standardIcon(QStyle.StandardPixmap.SP_DirIcon)
    file_icon = style.standardIcon(QStyle.StandardPixmap.SP_FileIcon)
    folders: dict[str, QStandardItem] = {}

    def folder_item(parts: tuple[str, ...]) -> QStandardItem:
        if not parts:
            return model.invisibleRootItem()
        key = "/".join(parts)
        if key not in folders:
            parent = folder_item(parts[:-1])
            item = QStandardItem(folder_icon, parts[-1])
            item.setEditable(False)
            parent.appendRow([item, _cell(""), _cell("")])
            folders[key] = item
        return folders[key]

    entries: list[tuple[str, int | None, str, str | None]] = [
        (f.path, f.size, change_of(review, f.path), f.link_target) for f in review.files
    ]
    entries += [(path, None, REMOVED, None) for path in review.removed]
    for path, size, change, link in sorted(entries):
        parts = tuple(path.split("/"))
        name = parts[-1] + (f" → {link}" if link else "")
        item = QStandardItem(file_icon, name)
        item.setEditable(False)
        item.setData(path, PATH_ROLE)
        item.setData(change, CHANGE_ROLE)
        item.setToolTip(path)
        size_text = "" if size is None else format_size(size)
        folder_item(parts[:-1]).appendRow([item, _cell(size_text, right=True), _cell(change)])
    return model


def _cell(text: str, right: bool = False) -> QStandardItem:
    item = QStandardItem(text)
    item.setEditable(False)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item

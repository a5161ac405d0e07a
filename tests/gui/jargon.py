"""A guard for plain words: walks the texts a person sees in a widget tree and finds FEDn internals.

What counts as *visible*: labels, buttons, check boxes, group box titles, tab titles, window and
wizard page titles, placeholders, combo box texts, the cells of item views, and extra texts the
caller adds (a tray icon's tooltip, menu entries). What does not: tooltips, hidden widgets (a
collapsed "Details" expander), text editors that show logs or code, and any widget marked as a
details area with ``widget.setProperty(DETAILS_PROPERTY, True)`` (support reads those).

Use :func:`jargon_found` to list offending (text, reason) pairs, or :func:`assert_plain` in tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QTabBar,
    QTableView,
    QTreeView,
    QWidget,
    QWizard,
)

from fedgui.gui.common.details import DETAILS_PROPERTY

#: (pattern, why it is jargon). Case-insensitive.
JARGON: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bcombiners?\b", re.I), "names the combiner"),
    (re.compile(r"\bcontrollers?\b", re.I), "names the controller"),
    (
        re.compile(
            r"\b(?:localhost|\d{1,3}(?:\.\d{1,3}){3}|[a-z0-9-]+(?:\.[a-z0-9-]+)+|\[[0-9a-f:]+\]):\d{2,5}\b",
            re.I,
        ),
        "a host:port pair",
    ),
    (
        re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
        "a UUID",
    ),
    (re.compile(r"\b[0-9a-f]{64}\b", re.I), "a 64-character checksum"),
    (re.compile(r"\bsha-?256\b", re.I), "names SHA-256"),
    (re.compile(r"\bmodel[ _-]?ids?\b", re.I), "a model id"),
    (re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+", re.I), "a command-line flag"),
    (re.compile(r"\bgrpc\b", re.I), "names gRPC"),
]
MAX_ROWS_READ = 200  # per item view: enough to see what a person sees first


def _plain(text: str) -> str:
    if "<" in text and QTextDocument().toPlainText() == "" and re.search(r"<[a-z/][^>]*>", text, re.I):
        document = QTextDocument()
        document.setHtml(text)
        return document.toPlainText()
    return text


def _is_details(widget: QWidget) -> bool:
    current: QWidget | None = widget
    while current is not None:
        if current.property(DETAILS_PROPERTY):
            return True
        current = current.parentWidget()
    return False


def _view_texts(view: QAbstractItemView) -> Iterable[str]:
    model = view.model()
    if model is None:
        return
    hidden_column = getattr(view, "isColumnHidden", lambda _c: False)
    root = QModelIndex()
    try:
        column_count = model.columnCount(root)
    except TypeError:  # list models hide columnCount from Python: they have one column
        column_count = 1
    columns = [c for c in range(column_count) if not hidden_column(c)]
    for column in columns:
        header = model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
        if header is not None and isinstance(view, (QTableView, QTreeView)):
            yield str(header)

    def rows(parent: QModelIndex, depth: int) -> Iterable[str]:
        for row in range(min(model.rowCount(parent), MAX_ROWS_READ)):
            if isinstance(view, QTableView) and view.isRowHidden(row):
                continue
            for column in columns:
                index = model.index(row, column, parent)
                value = index.data(Qt.ItemDataRole.DisplayRole)
                if value is not None:
                    yield str(value)
            first = model.index(row, 0, parent)
            expanded = isinstance(view, QTreeView) and view.isExpanded(first)
            if depth < 3 and expanded and model.rowCount(first) > 0:
                yield from rows(first, depth + 1)

    yield from rows(root, 0)


def widget_texts(widget: QWidget) -> Iterable[str]:
    """The texts of one widget that a person reads on screen."""
    if isinstance(widget, QLabel):
        yield _plain(widget.text())
    elif isinstance(widget, QAbstractButton):
        yield widget.text().replace("&", "")
    elif isinstance(widget, QGroupBox):
        yield widget.title()
    elif isinstance(widget, QTabBar):
        for i in range(widget.count()):
            if widget.isTabVisible(i):
                yield widget.tabText(i).replace("&", "")
    elif isinstance(widget, QLineEdit):
        if not widget.text():
            yield widget.placeholderText()
    elif isinstance(widget, QComboBox):
        yield widget.currentText()
    elif isinstance(widget, QAbstractItemView):
        yield from _view_texts(widget)
    elif isinstance(widget, QMenu):
        for action in widget.actions():
            if action.isVisible():
                yield action.text().replace("&", "")
    if widget.isWindow():
        yield widget.windowTitle()
    if isinstance(widget, QWizard) and widget.currentPage() is not None:
        yield widget.currentPage().title()
        yield widget.currentPage().subTitle()


def visible_texts(root: QWidget, extra: Iterable[str] = ()) -> list[str]:
    """Every visible text under ``root`` (itself included), outside details areas."""
    texts: list[str] = list(widget_texts(root))
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root) or _is_details(widget):
            continue
        texts.extend(widget_texts(widget))
    texts.extend(extra)
    return [t for t in texts if t and t.strip()]


def jargon_in(text: str) -> list[str]:
    return [f"{why}: {match.group(0)!r}" for pattern, why in JARGON for match in pattern.finditer(text)]


def jargon_found(root: QWidget, extra: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(text, reason) for each visible text that names an internal."""
    found = []
    for text in visible_texts(root, extra):
        for reason in jargon_in(text):
            found.append((text, reason))
    return found


def assert_plain(root: QWidget, where: str = "", extra: Iterable[str] = ()) -> None:
    found = jargon_found(root, extra)
    if found:
        listing = "\n".join(f"  - {reason}\n      in: {text!r}" for text, reason in found)
        raise AssertionError(
            f"FEDn internals in what a person sees{' on ' + where if where else ''}:\n{listing}"
        )

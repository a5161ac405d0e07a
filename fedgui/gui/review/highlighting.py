"""Cheap syntax colouring for the file viewer and +/- colouring for diffs.

Colours are blended from the current palette, so they stay readable on light and dark themes.
"""

from __future__ import annotations

import keyword
import re

from PySide6.QtGui import QColor, QFont, QPalette, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import QApplication

PYTHON_KEYWORDS = frozenset(keyword.kwlist)
_QUOTED = re.compile(r"\"[^\"\\]*(?:\\.[^\"\\]*)*\"|'[^'\\]*(?:\\.[^'\\]*)*'")


def blend(base: QColor, tint: QColor, amount: float) -> QColor:
    """``amount`` of ``tint`` over ``base`` (0..1)."""
    return QColor(
        round(base.red() * (1 - amount) + tint.red() * amount),
        round(base.green() * (1 - amount) + tint.green() * amount),
        round(base.blue() * (1 - amount) + tint.blue() * amount),
    )


def _palette() -> QPalette:
    return QApplication.palette()


def _is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def language_for(path: str) -> str | None:
    lower = path.lower()
    if lower.endswith((".py", ".pyw")):
        return "python"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    if lower.endswith((".sh", ".cfg", ".toml", ".ini", ".txt")) or lower.endswith("requirements.txt"):
        return "plain-comments"
    return None


class CodeHighlighter(QSyntaxHighlighter):
    """Keywords, strings and comments for Python; keys, strings and comments for YAML."""

    def __init__(self, document: QTextDocument, language: str | None) -> None:
        super().__init__(document)
        self.language = language
        palette = _palette()
        text = palette.color(QPalette.ColorRole.Text)
        accent = palette.color(QPalette.ColorRole.Link)
        dark = _is_dark(palette)
        self.keyword = QTextCharFormat()
        self.keyword.setForeground(accent)
        self.keyword.setFontWeight(QFont.Weight.Bold)
        self.string = QTextCharFormat()
        self.string.setForeground(blend(text, QColor("#4caf50" if dark else "#1b5e20"), 0.8))
        self.comment = QTextCharFormat()
        self.comment.setForeground(blend(text, palette.color(QPalette.ColorRole.Base), 0.45))
        self.comment.setFontItalic(True)
        self._rules: list[tuple[re.Pattern[str], QTextCharFormat]] = []
        if language == "python":
            words = "|".join(sorted(PYTHON_KEYWORDS))
            self._rules.append((re.compile(rf"\b(?:{words})\b"), self.keyword))
        elif language == "yaml":
            self._rules.append((re.compile(r"^\s*-?\s*[\w.-]+(?=\s*:)"), self.keyword))
        if language in ("python", "yaml"):
            self._rules.append((_QUOTED, self.string))
        if language is not None:
            self._rules.append((re.compile(r"#.*$"), self.comment))

    def highlightBlock(self, text: str) -> None:
        for pattern, fmt in self._rules:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), fmt)


class DiffHighlighter(QSyntaxHighlighter):
    """Added lines on a green-tinted background, removed on red, hunk headers in the accent colour.

    The +/- sign stays in the text, so the meaning does not depend on seeing colour.
    """

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        palette = _palette()
        base = palette.color(QPalette.ColorRole.Base)
        amount = 0.35 if _is_dark(palette) else 0.22
        self.added = QTextCharFormat()
        self.added.setBackground(blend(base, QColor("#2e7d32"), amount))
        self.removed = QTextCharFormat()
        self.removed.setBackground(blend(base, QColor("#c62828"), amount))
        self.hunk = QTextCharFormat()
        link = palette.color(QPalette.ColorRole.Link)
        if _is_dark(palette) and link.lightness() < 140:
            # Many dark themes keep the light theme's dark blue link colour: unreadable here.
            link = blend(link, palette.color(QPalette.ColorRole.Text), 0.55)
        self.hunk.setForeground(link)
        self.header = QTextCharFormat()
        self.header.setFontWeight(QFont.Weight.Bold)

    def highlightBlock(self, text: str) -> None:
        if text.startswith(("+++", "---")):
            self.setFormat(0, len(text), self.header)
        elif text.startswith("+"):
            self.setFormat(0, len(text), self.added)
        elif text.startswith("-"):
            self.setFormat(0, len(text), self.removed)
        elif text.startswith("@@"):
            self.setFormat(0, len(text), self.hunk)

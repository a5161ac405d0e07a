"""Commands as a review must show them: nothing hidden, nothing pushed out of view.

A review that shows ``python validate.py`` while the command goes on after 300 spaces with
``; rm -rf ~/data`` approves something the person never saw. So runs of spaces, tabs, line
breaks, control characters and invisible or direction-changing Unicode characters become
visible markers; the text itself is never shortened.
"""

from __future__ import annotations

import re
import unicodedata

#: Shorter runs of spaces are shown as they are (two spaces are a typo, not a hiding place).
SPACE_RUN = 3
_SPACES = re.compile(f" {{{SPACE_RUN},}}")
_NAMED = {"\t": "⟨tab⟩", "\n": "⟨new line⟩", "\r": "⟨carriage return⟩"}


def _marker(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    name = unicodedata.name(char, "")
    label = f"U+{ord(char):04X}" + (f" {name.lower()}" if name else "")
    return f"⟨{label}⟩"


def _hidden(char: str) -> bool:
    """Characters that do not show as themselves: control (Cc), format (Cf: zero-width,
    right-to-left override …), separators other than the plain space (Zl, Zp, Zs)."""
    if char == " ":
        return False
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Zs", "Co", "Cn")


def visible_command(command: str) -> str:
    """``command`` with every hidden part made visible, whole (never cut)."""
    text = _SPACES.sub(lambda m: f" ⟨{len(m.group())} spaces⟩ ", command)
    return "".join(_marker(c) if _hidden(c) else c for c in text)


def has_hidden_parts(command: str) -> bool:
    return visible_command(command) != command

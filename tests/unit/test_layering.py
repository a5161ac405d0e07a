"""fedgui/core must never import Qt (napari enforces the same with import-linter)."""

import ast
from pathlib import Path

import fedgui.core

FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "fedgui.gui")


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_core_never_imports_qt():
    core = Path(fedgui.core.__file__).parent
    offenders = [
        f"{path.relative_to(core)} imports {name}"
        for path in core.rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN or name.startswith("fedgui.gui")
    ]
    assert offenders == []

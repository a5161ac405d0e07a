"""Render the app's SVG icon into the PNG sizes of the hicolor icon theme, with Qt's own SVG renderer.

Usage: python render_icons.py APP.svg OUT_ICONS_DIR NAME
Writes OUT_ICONS_DIR/hicolor/<n>x<n>/apps/NAME.png for each size and
OUT_ICONS_DIR/hicolor/scalable/apps/NAME.svg. Runs offscreen (no display needed).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

SIZES = (16, 22, 24, 32, 48, 64, 128, 256)


def main() -> int:
    svg, out, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication([])  # noqa: F841  (QImage painting needs an application object for fonts)
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        print(f"render_icons: {svg} is not a valid SVG", file=sys.stderr)
        return 1
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        target = out / "hicolor" / f"{size}x{size}" / "apps" / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(target), "PNG"):
            print(f"render_icons: could not write {target}", file=sys.stderr)
            return 1
    scalable = out / "hicolor" / "scalable" / "apps" / f"{name}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, scalable)
    return 0


if __name__ == "__main__":
    sys.exit(main())

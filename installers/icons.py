"""Render the app's SVG icon into what each platform's installer needs, with Qt's own SVG renderer
(PySide6 is in every build environment already). Runs offscreen; no display needed.

    python icons.py hicolor APP.svg OUT_DIR NAME   OUT_DIR/hicolor/<n>x<n>/apps/NAME.png (16..256)
                                                   + OUT_DIR/hicolor/scalable/apps/NAME.svg  (Linux)
    python icons.py ico     APP.svg OUT.ico         16, 24, 32, 48, 64, 128, 256 px in one .ico (Windows)
    python icons.py iconset APP.svg OUT.iconset     icon_<n>x<n>[@2x].png for iconutil -c icns (macOS)
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
from pathlib import Path

HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICONSET_SIZES = (16, 32, 128, 256, 512)  # each also at @2x


class Renderer:
    def __init__(self, svg: Path) -> None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtGui import QGuiApplication
        from PySide6.QtSvg import QSvgRenderer

        self._app = QGuiApplication.instance() or QGuiApplication([])
        self._renderer = QSvgRenderer(str(svg))
        if not self._renderer.isValid():
            raise SystemExit(f"icons.py: {svg} is not a valid SVG")

    def png(self, size: int) -> bytes:
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
        from PySide6.QtGui import QImage, QPainter

        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._renderer.render(painter)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if not image.save(buffer, "PNG"):
            raise SystemExit(f"icons.py: could not encode a {size} px PNG")
        buffer.close()
        return bytes(data.data())


def write_hicolor(renderer: Renderer, svg: Path, out: Path, name: str) -> None:
    for size in HICOLOR_SIZES:
        target = out / "hicolor" / f"{size}x{size}" / "apps" / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(renderer.png(size))
    scalable = out / "hicolor" / "scalable" / "apps" / f"{name}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, scalable)


def ico_bytes(images: dict[int, bytes]) -> bytes:
    """An .ico whose entries are PNG images (read by Windows Vista and later)."""
    header = struct.pack("<HHH", 0, 1, len(images))
    directory, blobs = b"", b""
    offset = 6 + 16 * len(images)
    for size, png in sorted(images.items()):
        edge = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        directory += struct.pack("<BBBBHHII", edge, edge, 0, 0, 1, 32, len(png), offset + len(blobs))
        blobs += png
    return header + directory + blobs


def write_ico(renderer: Renderer, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(ico_bytes({size: renderer.png(size) for size in ICO_SIZES}))


def write_iconset(renderer: Renderer, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for size in ICONSET_SIZES:
        (out / f"icon_{size}x{size}.png").write_bytes(renderer.png(size))
        (out / f"icon_{size}x{size}@2x.png").write_bytes(renderer.png(size * 2))


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] not in ("hicolor", "ico", "iconset"):
        print(__doc__, file=sys.stderr)
        return 2
    kind, svg, out = argv[0], Path(argv[1]), Path(argv[2])
    renderer = Renderer(svg)
    if kind == "hicolor":
        write_hicolor(renderer, svg, out, argv[3] if len(argv) > 3 else "fedgui")
    elif kind == "ico":
        write_ico(renderer, out)
    else:
        write_iconset(renderer, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

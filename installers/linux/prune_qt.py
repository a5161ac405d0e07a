"""Remove the parts of PySide6 that fedgui never loads from a staged venv, and report the sizes.

PySide6-Essentials ships Qt Quick/QML, Designer, SQL, Help, the Wayland *compositor*, the PDF
image plugin, eglfs/linuxfb/VNC platforms and more; fedgui is a widgets app. Kept:

* the Python modules fedgui and pyqtgraph import (KEEP_MODULES), with their ``.pyi`` stubs;
* the plugins a desktop session loads (KEEP_PLUGINS): X11 and Wayland *client* platforms,
  offscreen/minimal, platform themes, input methods, GL integrations, Wayland client
  decorations/shells, image formats except PDF, the SVG icon engine, TLS, network information,
  CUPS printing;
* every library in Qt/lib that those files need, found by following ELF ``NEEDED`` entries
  (the closure); every other library goes;
* qtbase translations (standard dialog texts); Qt Quick's ``qml/`` folder and the translations
  of Designer, Linguist, Assistant and Qt Quick go.

Usage: python3 prune_qt.py SITE_PACKAGES      (prints what it removed and the sizes before/after)
Exit status 1 when a kept file needs a Qt library that is missing (the closure is broken).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from elf_needed import needed

# QtCore..QtWidgets: fedgui; QtNetwork: single-instance socket; QtSvg(+Widgets): icons and
# pyqtgraph's SVG export; QtOpenGL(+Widgets), QtTest: pyqtgraph imports them when present;
# QtDBus: tray icon (StatusNotifierItem) and the portal theme; QtPrintSupport: pyqtgraph's print.
KEEP_MODULES = frozenset(
    {
        "QtCore",
        "QtGui",
        "QtWidgets",
        "QtNetwork",
        "QtSvg",
        "QtSvgWidgets",
        "QtOpenGL",
        "QtOpenGLWidgets",
        "QtTest",
        "QtDBus",
        "QtPrintSupport",
    }
)

# Plugin folder -> file names kept (None: the whole folder).
KEEP_PLUGINS: dict[str, frozenset[str] | None] = {
    "platforms": frozenset({"libqxcb.so", "libqwayland.so", "libqoffscreen.so", "libqminimal.so"}),
    "platformthemes": None,
    "platforminputcontexts": frozenset(
        {"libcomposeplatforminputcontextplugin.so", "libibusplatforminputcontextplugin.so"}
    ),
    "xcbglintegrations": None,
    "wayland-decoration-client": None,
    "wayland-graphics-integration-client": None,
    "wayland-shell-integration": None,
    "imageformats": None,  # minus libqpdf.so, below
    "iconengines": None,
    "tls": None,
    "networkinformation": None,
    "printsupport": None,
}
DROP_PLUGIN_FILES = frozenset({"libqpdf.so"})
KEEP_TRANSLATION_PREFIXES = ("qtbase_", "qt_")


def size_of(path: Path) -> int:
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def remove(path: Path, removed: list[str], root: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
    removed.append(str(path.relative_to(root)))


def prune(site: Path) -> list[str]:
    pyside = site / "PySide6"
    qt = pyside / "Qt"
    removed: list[str] = []

    # Python modules (and PySide's QML support library, which only QtQml and friends need).
    for binding in pyside.glob("Qt*.abi3.so"):
        if binding.name.split(".")[0] not in KEEP_MODULES:
            remove(binding, removed, site)
    for stub in pyside.glob("Qt*.pyi"):
        if stub.stem not in KEEP_MODULES:
            remove(stub, removed, site)
    for qml_support in pyside.glob("libpyside6qml*"):
        remove(qml_support, removed, site)

    # Plugins.
    plugins = qt / "plugins"
    for folder in sorted(p for p in plugins.iterdir() if p.is_dir()):
        keep = KEEP_PLUGINS.get(folder.name, frozenset())
        if keep == frozenset():
            remove(folder, removed, site)
            continue
        for plugin in sorted(folder.iterdir()):
            if plugin.name in DROP_PLUGIN_FILES or (keep is not None and plugin.name not in keep):
                remove(plugin, removed, site)

    for name in ("qml",):
        if (qt / name).exists():
            remove(qt / name, removed, site)
    translations = qt / "translations"
    if translations.is_dir():
        for catalog in sorted(translations.iterdir()):
            if not catalog.name.startswith(KEEP_TRANSLATION_PREFIXES):
                remove(catalog, removed, site)

    # Qt/lib: keep the NEEDED closure of everything kept above.
    lib = qt / "lib"
    bundled = {p.name: p for p in lib.iterdir()} if lib.is_dir() else {}
    roots = [*pyside.glob("*.so*"), *(p for p in plugins.rglob("*.so") if p.is_file())]
    roots += [p for p in (site / "shiboken6").glob("*.so*")]
    keep_libs: set[str] = set()
    queue = list(roots)
    missing: list[str] = []
    while queue:
        elf = queue.pop()
        for name in needed(elf):
            if name in keep_libs:
                continue
            if name in bundled:
                keep_libs.add(name)
                queue.append(bundled[name])
            elif name.startswith("libQt6"):
                missing.append(f"{name} (needed by {elf.relative_to(site)})")
    if missing:
        raise SystemExit(
            "prune_qt: kept files need Qt libraries that are not there:\n  " + "\n  ".join(missing)
        )
    # A library is kept when its real file or any of its names (symlinks) is needed.
    for name, path in sorted(bundled.items()):
        if name in keep_libs:
            continue
        if path.is_symlink() and path.resolve().name in keep_libs:
            continue
        if not path.is_symlink() and any(
            other.is_symlink() and other.resolve() == path.resolve() and n in keep_libs
            for n, other in bundled.items()
        ):
            continue
        remove(path, removed, site)
    return removed


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    site = Path(argv[0])
    before = size_of(site / "PySide6")
    removed = prune(site)
    after = size_of(site / "PySide6")
    print(
        f"PySide6 pruned: {before / 2**20:.0f} MiB -> {after / 2**20:.0f} MiB "
        f"({len(removed)} files and folders removed)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

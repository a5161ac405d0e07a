#!/bin/bash
# Build out/fedgui.app and out/fedgui-<version>-macos-<arch>.dmg on a Mac (one architecture per
# build: run it on Apple silicon for arm64, on an Intel Mac for x86_64).
#
# fedgui.app/Contents/
#   MacOS/fedgui              launcher script: exec Resources/python/bin/python3 -m fedgui
#   Resources/python/         a relocatable CPython (python-build-standalone "install_only"),
#                             with fedgui and its wheels in its site-packages and the icons and
#                             the example in python/share/fedgui/resources. A plain venv would not do: its
#                             pyvenv.cfg points at a base Python outside the bundle that a data
#                             provider's Mac does not have. This Python is complete (venv,
#                             ensurepip), so it runs compute packages and builds their venvs.
#   Resources/fedgui.icns     from resources/icons/app.svg (Qt renders, iconutil packs)
#   Resources/start-at-login, Resources/org.fedgui.plist.in   the LaunchAgent for "start at login"
#   Info.plist
#
# Environment:
#   PYTHON_TARBALL   URL or local path of a python-build-standalone install_only .tar.gz
#                    (default: CPython $PBS_PYTHON from release $PBS_TAG for this architecture)
#   CODESIGN_IDENTITY  "Developer ID Application: ..." to sign with the hardened runtime
#                    (then notarize the .dmg: xcrun notarytool submit ... --wait; xcrun stapler
#                    staple ...). Without it the app is signed ad hoc: it runs on this Mac, and
#                    elsewhere only after right-click > Open.
#   OUT              output folder (default <repo>/out)
# Needs: macOS 12+, Xcode command line tools (iconutil, codesign, plutil), hdiutil, curl, network.
set -euo pipefail

main() {
  here=$(cd "$(dirname "$0")" && pwd)
  repo=$(cd "$here/../.." && pwd)
  OUT=${OUT:-$repo/out}
  PBS_TAG=${PBS_TAG:-20240814}
  PBS_PYTHON=${PBS_PYTHON:-3.11.9}
  die() { printf 'build-app: %s\n' "$*" >&2; exit 1; }
  say() { printf '\n== %s\n' "$*"; }

  [ "$(uname -s)" = Darwin ] || die "builds on macOS only (hdiutil, iconutil, codesign)"
  for tool in hdiutil iconutil codesign plutil curl; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (xcode-select --install)"
  done
  version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$repo/fedgui/__init__.py")
  [ -n "$version" ] || die "no __version__ in fedgui/__init__.py"
  arch=$(uname -m)
  case "$arch" in
    arm64) triple=aarch64-apple-darwin ;;
    x86_64) triple=x86_64-apple-darwin ;;
    *) die "unknown architecture $arch" ;;
  esac
  tarball=${PYTHON_TARBALL:-https://github.com/astral-sh/python-build-standalone/releases/download/$PBS_TAG/cpython-$PBS_PYTHON+$PBS_TAG-$triple-install_only.tar.gz}

  work=$(mktemp -d "${TMPDIR:-/tmp}/fedgui-mac.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  app=$work/fedgui.app
  contents=$app/Contents
  mkdir -p "$contents/MacOS" "$contents/Resources"
  start=$(date +%s)

  say "CPython ($tarball)"
  case "$tarball" in
    http*) curl -fsSL "$tarball" | tar -xz -C "$contents/Resources" ;;
    *) tar -xzf "$tarball" -C "$contents/Resources" ;;
  esac
  py=$contents/Resources/python/bin/python3
  "$py" -c 'import sys, venv, ensurepip; print(sys.version)'

  say "fedgui $version and its wheels"
  mkdir -p "$work/src"
  cp -a "$repo/pyproject.toml" "$repo/README.md" "$work/src/"
  tar -C "$repo" --exclude=__pycache__ --exclude='*.pyc' -cf - fedgui | tar -C "$work/src" -xf -
  "$py" -m pip install --disable-pip-version-check --no-warn-script-location -q "$work/src"
  site=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  rm -f "$site"/fedgui-*.dist-info/direct_url.json

  say "resources, icon, Info.plist, launcher"
  share=$contents/Resources/python/share/fedgui/resources
  rm -rf "$share"  # replaces any copy pip put there, so nothing nests or goes stale
  mkdir -p "$share"
  cp -R "$repo/resources/icons" "$share/icons"
  tar -C "$repo/resources" --exclude=__pycache__ --exclude='*.pyc' -cf - example | tar -C "$share" -xf -
  QT_QPA_PLATFORM=offscreen "$py" "$here/../icons.py" iconset "$repo/resources/icons/app.svg" "$work/fedgui.iconset"
  iconutil -c icns -o "$contents/Resources/fedgui.icns" "$work/fedgui.iconset"
  # The oldest macOS every binary wheel supports (e.g. PySide6 macosx_13_0 -> 13.0).
  min_macos=$("$py" - "$site" <<'PY'
import re, sys
from pathlib import Path
need = [(11, 0)]
for wheel in Path(sys.argv[1]).glob("*.dist-info/WHEEL"):
    found = [tuple(map(int, m.groups())) for m in re.finditer(r"macosx_(\d+)_(\d+)_", wheel.read_text())]
    if found:
        need.append(min(found))
print("%d.%d" % max(need))
PY
)
  sed -e "s/@VERSION@/$version/g" -e "s/@MIN_MACOS@/$min_macos/g" "$here/Info.plist.in" > "$contents/Info.plist"
  plutil -lint "$contents/Info.plist"
  install -m755 "$here/launcher.sh" "$contents/MacOS/fedgui"
  install -m755 "$here/start-at-login" "$contents/Resources/start-at-login"
  install -m644 "$here/org.fedgui.plist.in" "$contents/Resources/org.fedgui.plist.in"

  say "self-check with the bundle's own launcher"
  QT_QPA_PLATFORM=offscreen "$contents/MacOS/fedgui" gui --self-check
  find "$app" -name __pycache__ -path '*/share/fedgui/resources/*' -prune -exec rm -rf {} +

  say "sign"
  if [ -n "${CODESIGN_IDENTITY:-}" ]; then
    codesign --force --deep --options runtime --timestamp -s "$CODESIGN_IDENTITY" "$app"
  else
    codesign --force --deep -s - "$app"
  fi
  codesign --verify --deep --strict "$app"

  say "dmg"
  mkdir -p "$OUT" "$work/dmg"
  rm -rf "$OUT/fedgui.app"
  cp -R "$app" "$OUT/fedgui.app"
  cp -R "$app" "$work/dmg/fedgui.app"
  ln -s /Applications "$work/dmg/Applications"
  dmg="$OUT/fedgui-$version-macos-$arch.dmg"
  hdiutil create -quiet -volname "fedgui $version" -srcfolder "$work/dmg" -ov -format UDZO "$dmg"
  end=$(date +%s)
  printf '\n%s\n  %s; app %s; built in %ss\n' "$dmg" "$(du -h "$dmg" | cut -f1)" \
    "$(du -sh "$OUT/fedgui.app" | cut -f1)" "$((end - start))"
}

main "$@"

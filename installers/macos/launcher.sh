#!/bin/bash
# fedgui.app/Contents/MacOS/fedgui: start fedgui with the Python inside the bundle.
# -B: never write byte-code into the (signed) bundle; the bundle ships it compiled already.
# Finder passed -psn_... on old macOS versions; drop it. PYTHONHOME/PYTHONPATH set for another
# Python must not leak into this one.
here=$(cd "$(dirname "$0")" && pwd)
args=()
for a in "$@"; do case "$a" in -psn_*) ;; *) args+=("$a") ;; esac; done
unset PYTHONHOME PYTHONPATH
exec "$here/../Resources/python/bin/python3" -B -m fedgui ${args[@]+"${args[@]}"}

#!/bin/sh
# /usr/bin/fedgui: start fedgui from its private virtual environment under /opt/fedgui.
# A wrapper rather than a symlink so that a PYTHONHOME or PYTHONPATH set for some other Python
# cannot point fedgui's interpreter at the wrong standard library or packages.
unset PYTHONHOME PYTHONPATH
exec /opt/fedgui/venv/bin/fedgui "$@"

#!/usr/bin/env bash
# Run a command on a private D-Bus session bus with an unlocked gnome-keyring Secret Service,
# so that keyring tests use a real backend without touching the person's own keyring.
# The keyring's files live in a throw-away folder; HOME itself is left alone so that caches
# (the FEDn test network's venv, pip's cache) are reused between runs.
set -euo pipefail
kr_home=$(mktemp -d /tmp/fedgui-keyring.XXXXXX)
trap 'rm -rf "$kr_home"' EXIT
export XDG_DATA_HOME=$kr_home/share XDG_RUNTIME_DIR=$kr_home/run
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
export FEDGUI_TEST_SECRET_SERVICE=1
dbus-run-session -- bash -c '
  set -e
  printf "%s" "fedgui-test" | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
  daemon=$!
  trap "kill $daemon 2>/dev/null || true" EXIT
  for _ in $(seq 100); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
      string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true" && break
    sleep 0.1
  done
  set +e; "$@"; exit $?
' bash "$@" 2> >(grep -v "Failed to set fd limit" >&2)

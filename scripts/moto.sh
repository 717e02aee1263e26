#!/usr/bin/env bash
# Installs moto (PyPI `moto[server]`, the AWS emulator the AWS tests write into and read from)
# into a virtualenv in the tools folder (ESC_SYNC_TOOLS_DIR, default ~/.cache/esc-sync/tools),
# once per version, under a lock so that a second clone or a second run waits instead of
# installing over it. Not needed by esc-sync itself.
#
# Prints the path of `moto_server` on stdout. On failure, prints one line saying why on stderr and
# exits 1. With an output file argument it also records the outcome there for the tests:
#   ESC_SYNC_MOTO_SERVER=/path/to/moto_server      or
#   ESC_SYNC_MOTO_ERROR=<the one-line reason>
set -euo pipefail

MOTO_VERSION=5.2.5

tools="${ESC_SYNC_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/esc-sync/tools}"
record="${1:-}"
venv="$tools/moto-venv-$MOTO_VERSION"
server="$venv/bin/moto_server"
marker="$venv/.installed"

say() { printf '[moto] %s\n' "$*" >&2; }
fail() {
  printf '[moto] error: %s\n' "$1" >&2
  [ -z "$record" ] || printf 'ESC_SYNC_MOTO_ERROR=%s\n' "$1" >"$record"
  exit 1
}
succeed() {
  [ -z "$record" ] || printf 'ESC_SYNC_MOTO_SERVER=%s\n' "$server" >"$record"
  printf '%s\n' "$server"
  exit 0
}

[ -f "$marker" ] && [ -x "$server" ] && succeed
mkdir -p "$tools"
exec 9>"$tools/moto.lock"
if ! flock -n 9; then
  say "another install of moto is running (lock $tools/moto.lock): waiting for it"
  flock 9
fi
[ -f "$marker" ] && [ -x "$server" ] && succeed

python="${PYTHON:-python3}"
command -v "$python" >/dev/null || fail "python3 is not installed, so moto (the AWS emulator of the AWS tests) cannot be installed: install Python 3 with venv"
# A virtualenv is not relocatable (its scripts name their interpreter by path), so it is made in
# place; the marker, written last, says it is whole.
rm -rf "$venv"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
say "installing moto[server]==$MOTO_VERSION into $venv (PyPI, once)"
"$python" -m venv "$venv" >"$log" 2>&1 || { rm -rf "$venv"; fail "$python -m venv failed ($(tail -n1 "$log")): install python3-venv"; }
"$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >"$log" 2>&1 || {
  rm -rf "$venv"
  fail "pip could not install moto[server]==$MOTO_VERSION from PyPI: $(grep -m1 -E 'ERROR|error' "$log" || tail -n1 "$log")"
}
[ -x "$server" ] || { rm -rf "$venv"; fail "moto[server]==$MOTO_VERSION installed no bin/moto_server"; }
date -u +%FT%TZ >"$marker"
say "installed: $server"
succeed

#!/usr/bin/env bash
# Builds actionlint (github.com/rhysd/actionlint, pinned below) from the Go module proxy into the
# tools folder (ESC_SYNC_TOOLS_DIR, default ~/.cache/esc-sync/tools), once; later runs find it.
# Concurrent runs wait on a lock and build once. Prints the binary's path on stdout; on failure
# one line saying why on stderr, exit 1.
set -euo pipefail

ACTIONLINT_VERSION=v1.7.12
tools="${ESC_SYNC_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/esc-sync/tools}"
dest="$tools/actionlint-$ACTIONLINT_VERSION"
binary="$dest/actionlint"

say() { printf '[actionlint] %s\n' "$*" >&2; }
fail() { printf '[actionlint] error: %s\n' "$1" >&2; exit 1; }

[ -x "$binary" ] && { printf '%s\n' "$binary"; exit 0; }
mkdir -p "$tools/.locks"
exec 9>"$tools/.locks/actionlint.lock"
if ! flock -n 9; then
  say "another build of actionlint is running (lock $tools/.locks/actionlint.lock): waiting for it"
  flock -w "${ESC_SYNC_LOCK_TIMEOUT:-3600}" 9 || fail "actionlint's lock stayed held: if no other build is going on, remove $tools/.locks/actionlint.lock"
fi
[ -x "$binary" ] && { printf '%s\n' "$binary"; exit 0; }
command -v go >/dev/null || fail "Go is not installed, so actionlint cannot be built: install Go >= 1.24"

say "building actionlint $ACTIONLINT_VERSION from the Go module proxy (under a minute, once)"
stage="$(mktemp -d "$tools/actionlint-build.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
# go install module@version checks the module against the checksum database, as any go get does.
GOBIN="$stage" GOFLAGS=-trimpath go install -ldflags "-s -w -X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" \
  "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >"$stage/go.log" 2>&1 ||
  fail "go install github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION failed: $(grep -m1 -E '^go: |error' "$stage/go.log" || tail -n1 "$stage/go.log")"
mkdir -p "$dest"
mv "$stage/actionlint" "$binary.partial.$$" && mv "$binary.partial.$$" "$binary"
"$binary" -version >/dev/null || fail "$binary does not run"
say "built: $binary"
printf '%s\n' "$binary"

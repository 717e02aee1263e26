#!/usr/bin/env bash
# Builds the Kubernetes API server and etcd the Kubernetes end-to-end tests run against (not
# needed by esc-sync itself). Both come from the Go module proxy:
#   apiserver/  k8s.io/kubernetes v1.34.2's cmd/kube-apiserver (its main, verbatim), in a wrapper
#               module that replaces each of its 31 staging modules with the published v0.34.2;
#   etcd/       go.etcd.io/etcd/server/v3 v3.6.5's etcdmain.
# No kubelet and no controllers run: the API server checks (admission, validation, RBAC,
# server-side apply and dry runs) are real; pods never start.
#
# The binaries are cached in the tools folder (ESC_SYNC_TOOLS_DIR, default ~/.cache/esc-sync/tools)
# under a key of this folder's content, so a changed pin rebuilds them; a second clone or a second
# run waits on a lock and builds once.
#
# Prints the folder holding `kube-apiserver` and `etcd` on stdout. On failure, prints one line
# saying why on stderr and exits 1. With an output file argument it also records the outcome for
# the tests:
#   ESC_SYNC_KUBE_BIN=/path/to/folder      or
#   ESC_SYNC_KUBE_ERROR=<the one-line reason>
# ESC_SYNC_KUBE_TIDY=1 recomputes go.mod/go.sum (for whoever changes a pin) and writes them back.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tools="${ESC_SYNC_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/esc-sync/tools}"
record="${1:-}"
[ -z "$record" ] || mkdir -p "$(dirname "$record")"

say() { printf '[kube] %s\n' "$*" >&2; }
fail() {
  printf '[kube] error: %s\n' "$1" >&2
  [ -z "$record" ] || printf 'ESC_SYNC_KUBE_ERROR=%s\n' "$1" >"$record"
  exit 1
}
succeed() {
  [ -z "$record" ] || printf 'ESC_SYNC_KUBE_BIN=%s\n' "$dest" >"$record"
  printf '%s\n' "$dest"
  exit 0
}
built() { [ -x "$dest/kube-apiserver" ] && [ -x "$dest/etcd" ]; }

key="$(cd "$here" && find . -type f ! -name '*.md' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)"
dest="$tools/kube-v1.34.2-etcd-v3.6.5-$key"
built && { say "cached: $dest"; succeed; }

# shellcheck source=../lib/lock.sh
. "$repo/scripts/lib/lock.sh"
LOCK_TAG=kube lock_acquire "$tools/.locks/kube.lock" "the Kubernetes test binaries ($tools)" || fail "the tools cache's lock for the Kubernetes binaries could not be taken"
built && { say "cached: $dest (built meanwhile)"; succeed; }

command -v go >/dev/null || fail "Go is not installed, so the Kubernetes API server for the Kubernetes end-to-end tests cannot be built: install Go >= 1.26"
go_minor="$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
[ "${go_minor:-0}" -ge 26 ] 2>/dev/null || fail "Go $(go env GOVERSION) is too old to build the Kubernetes API server: install Go >= 1.26"

mkdir -p "$tools"
build="$(mktemp -d "$tools/kube-build.XXXXXX")"
trap 'rm -rf "$build"' EXIT
# The first `go: ...` line of a failed go command, e.g. a module the proxy refused (403/404).
go_reason() { { grep -m1 -E '^go: |: (403|404|410) |\.go:[0-9]+' "$1" || tail -n1 "$1"; } | cut -c1-400; }

compile() { # folder binary what minutes
  local src="$build/$1" log="$build/$1.log"
  cp -r "$here/$1" "$src"
  if [ "${ESC_SYNC_KUBE_TIDY:-}" = "1" ]; then
    (cd "$src" && go mod tidy) >"$log" 2>&1 || fail "go mod tidy of $1 failed: $(go_reason "$log")"
    cp "$src/go.mod" "$src/go.sum" "$here/$1/"
    return
  fi
  say "building $3 (Go module proxy; about $4 on 2 cores, once)"
  (cd "$src" && go build -trimpath -ldflags "-s -w" -o "$build/out/$2" .) >"$log" 2>&1 || fail "building $3 failed: $(go_reason "$log")"
}
mkdir -p "$build/out"
compile etcd etcd "etcd v3.6.5" "half a minute"
compile apiserver kube-apiserver "kube-apiserver v1.34.2" "5 minutes and 2 GB of memory"
if [ "${ESC_SYNC_KUBE_TIDY:-}" = "1" ]; then
  say "go.mod and go.sum written; run again without ESC_SYNC_KUBE_TIDY to build (the cache key changed)"
  exit 0
fi
"$build/out/etcd" --version >/dev/null 2>&1 || fail "the built etcd does not run (etcd --version failed)"
"$build/out/kube-apiserver" --version >/dev/null 2>&1 || fail "the built kube-apiserver does not run (kube-apiserver --version failed)"

# Publish atomically: a reader sees both binaries or none.
rm -rf "$dest"
mv "$build/out" "$dest"
say "built: $dest"
succeed

#!/usr/bin/env bash
# Checks that two provisionings at once, on an empty tools cache, both succeed (issue #22): two
# throwaway clones of this repository (the files git tracks, sharing its node_modules) provision
# at the same moment into one new ESC_SYNC_TOOLS_DIR; both must exit 0 and record a toolchain
# that runs.
#   scripts/check-provision-twice.sh                              # everything, esc tools included (a Go build: minutes)
#   ESC_SYNC_SKIP_ESC_TOOLS=1 scripts/check-provision-twice.sh    # Node and the Pulumi CLI only
# A `pulumi` of the pinned version on PATH is used as it is (else it is built from the Go module
# proxy, once, by whichever run takes the lock first).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/esc-sync-provision-twice.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export ESC_SYNC_TOOLS_DIR="$work/tools"

for clone in one two; do
  mkdir -p "$work/$clone"
  (cd "$repo" && git ls-files -z | xargs -0 cp --parents -t "$work/$clone")
  ln -s "$repo/node_modules" "$work/$clone/node_modules"
done

pids=()
for clone in one two; do
  bash "$work/$clone/scripts/provision.sh" >"$work/$clone.log" 2>&1 &
  pids+=("$!")
done
status=0
for i in 0 1; do
  clone=$([ "$i" = 0 ] && echo one || echo two)
  if wait "${pids[$i]}"; then
    # shellcheck disable=SC1091
    (set -a && . "$work/$clone/.esc-sync/toolchain.env" && "$ESC_SYNC_NODE" --version >/dev/null && "$ESC_SYNC_PULUMI_ROOT/bin/pulumi" version >/dev/null) ||
      { echo "[check] $clone: provisioned, but its toolchain.env does not run" >&2; status=1; }
    echo "[check] $clone: exit 0" >&2
  else
    echo "[check] $clone: failed; its log:" >&2
    sed 's/^/    /' "$work/$clone.log" >&2
    status=1
  fi
done
for clone in one two; do
  echo "[check] --- $clone ---" >&2
  sed 's/^/    /' "$work/$clone.log" >&2
done
leftovers="$(find "$ESC_SYNC_TOOLS_DIR" -name '*.partial' -o -name '.*-build.*' -o -name 'get-pulumi.*' | head -5)"
[ -z "$leftovers" ] || { echo "[check] temporary files left in the tools cache: $leftovers" >&2; status=1; }
[ "$status" = 0 ] && echo "[check] two provisionings at once on an empty tools cache: both succeeded" >&2
exit "$status"

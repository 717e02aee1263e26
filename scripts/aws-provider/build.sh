#!/usr/bin/env bash
# Builds the AWS Pulumi provider the test suite runs against moto (not needed by esc-sync itself).
#
# The module proxy refuses pulumi-aws's own provider module, but serves what it is built from:
# the upstream Terraform provider (hashicorp/terraform-provider-aws) and the Pulumi Terraform
# bridge. This script
#   1. downloads the pinned upstream provider and the bridge's fork of the plugin SDK, checking
#      their module hashes;
#   2. copies them into a build directory and cuts the upstream provider to the services esc-sync
#      writes (the generated service-package list to secretsmanager and ssm, the generated client
#      list to the clients those packages and the provider core call), adds a small exported
#      wrapper around its internal constructor (overlay/terraform-provider-aws) and the one method
#      the SDK fork lacks (overlay/terraform-plugin-sdk);
#   3. builds main.go (the bridge's ProviderInfo) with the pinned go.mod/go.sum.
# The binary is cached in the tools folder (ESC_SYNC_TOOLS_DIR, default ~/.cache/esc-sync/tools)
# under a key of this folder's content, so a change to a pin or a patch rebuilds it; concurrent
# runs (a second clone, a second provision) wait on a lock and build once.
#
# It is the upstream provider's logic through the real bridge, not pulumi-aws's release: its
# patches, schema overrides and embedded schema are absent.
#
# Prints the binary's path on stdout. On failure, prints one line saying why on stderr, exits 1.
# With an output file argument it also records the outcome there for the tests:
#   ESC_SYNC_AWS_PROVIDER=/path/to/pulumi-resource-aws      or
#   ESC_SYNC_AWS_PROVIDER_ERROR=<the one-line reason>
set -euo pipefail

PROVIDER_VERSION=7.48.0
UPSTREAM=github.com/hashicorp/terraform-provider-aws
UPSTREAM_VERSION=v1.60.1-0.20260602190131-5f2286d6d836
UPSTREAM_SUM=h1:haLmsj0WF7e6d2TGbk0fbz5qWdA9f8w9sNpMe6J6WqM=
SDK_FORK=github.com/pulumi/terraform-plugin-sdk/v2
SDK_FORK_VERSION=v2.0.0-20250923233607-7f1981c8674a
SDK_FORK_SUM=h1:bTwou+tt2fyfuuCp9+VQOlgEJk/xKEaYeoX2HCtp2es=
# Service packages registered with the provider, and the AWS SDK clients kept in the generated
# client list (secretsmanager imports the iam package; the provider core calls the S3 client).
SERVICES="secretsmanager ssm"
CLIENTS="secretsmanager ssm iam s3"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="${ESC_SYNC_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/esc-sync/tools}"
record="${1:-}"
[ -z "$record" ] || mkdir -p "$(dirname "$record")"

say() { printf '[aws-provider] %s\n' "$*" >&2; }
fail() {
  printf '[aws-provider] error: %s\n' "$1" >&2
  [ -z "$record" ] || printf 'ESC_SYNC_AWS_PROVIDER_ERROR=%s\n' "$1" >"$record"
  exit 1
}
succeed() {
  [ -z "$record" ] || printf 'ESC_SYNC_AWS_PROVIDER=%s\n' "$1" >"$record"
  printf '%s\n' "$1"
  exit 0
}

key="$(cd "$here" && find . -type f ! -name '*.md' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)"
dest="$tools/pulumi-resource-aws-v$PROVIDER_VERSION-$key"
binary="$dest/pulumi-resource-aws"
[ -x "$binary" ] && { say "cached: $binary"; succeed "$binary"; }

mkdir -p "$tools"
exec 9>"$tools/aws-provider.lock"
if ! flock -n 9; then
  say "another build of the AWS provider is running (lock $tools/aws-provider.lock): waiting for it"
  flock 9
fi
[ -x "$binary" ] && { say "cached: $binary (built meanwhile)"; succeed "$binary"; }

command -v go >/dev/null || fail "Go is not installed, so the AWS provider for the AWS end-to-end tests cannot be built: install Go >= 1.26.3"
go_minor="$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
[ "${go_minor:-0}" -ge 26 ] 2>/dev/null || fail "Go $(go env GOVERSION) is too old to build the AWS provider: install Go >= 1.26.3"

build="$(mktemp -d "$tools/aws-provider-build.XXXXXX")"
trap 'chmod -R u+w "$build" 2>/dev/null; rm -rf "$build"' EXIT
log="$build/go.log"

# The first `go: ...` line of a failed go command, e.g. a module the proxy refused (403/404).
go_reason() { { grep -m1 -A1 -E '^go: |: (403|404|410) |reading https?://' "$log" || tail -n1 "$log"; } | tr '\n' ' ' | cut -c1-400; }

# --- 1. the two modules that are patched -------------------------------------------------------
say "downloading $UPSTREAM@$UPSTREAM_VERSION and $SDK_FORK@$SDK_FORK_VERSION (module proxy; ~360 MB, once)"
mkdir -p "$build/fetch"
printf 'module fetch\n\ngo 1.26\n' >"$build/fetch/go.mod"
fetched=1
(cd "$build/fetch" && go mod download -json "$UPSTREAM@$UPSTREAM_VERSION" "$SDK_FORK@$SDK_FORK_VERSION") >"$build/fetch.json" 2>"$log" || fetched=0
module_field() { # module field -> value, from go mod download -json's output (one "Key": value per line)
  awk -v path="$1" -v field="$2" '
    /^\t"Path": / { current = $2; gsub(/[",]/, "", current) }
    current == path && $1 == "\"" field "\":" { v = $0; sub(/^[^:]*: "/, "", v); sub(/",?$/, "", v); print v; exit }
  ' "$build/fetch.json"
}
if [ "$fetched" = 0 ]; then
  # go mod download -json puts a module's error in its JSON object, not on stderr.
  reason="$(module_field "$UPSTREAM" Error)"
  [ -n "$reason" ] || reason="$(module_field "$SDK_FORK" Error)"
  [ -n "$reason" ] || reason="$(go_reason)"
  fail "the Go module proxy did not serve the AWS provider's sources: $reason"
fi
upstream_dir="$(module_field "$UPSTREAM" Dir)"
sdk_dir="$(module_field "$SDK_FORK" Dir)"
[ -d "$upstream_dir" ] || fail "the Go module proxy did not serve $UPSTREAM@$UPSTREAM_VERSION: $(module_field "$UPSTREAM" Error)"
[ -d "$sdk_dir" ] || fail "the Go module proxy did not serve $SDK_FORK@$SDK_FORK_VERSION: $(module_field "$SDK_FORK" Error)"
[ "$(module_field "$UPSTREAM" Sum)" = "$UPSTREAM_SUM" ] || fail "$UPSTREAM@$UPSTREAM_VERSION has hash $(module_field "$UPSTREAM" Sum), expected $UPSTREAM_SUM"
[ "$(module_field "$SDK_FORK" Sum)" = "$SDK_FORK_SUM" ] || fail "$SDK_FORK@$SDK_FORK_VERSION has hash $(module_field "$SDK_FORK" Sum), expected $SDK_FORK_SUM"

# --- 2. writable copies, cut and patched -------------------------------------------------------
# Hard links when the module cache is on the same file system (instant), else a copy. Files are
# never written in place (the cache's files would change too): a patched file is replaced.
copy_module() {
  cp -al "$1" "$2" 2>/dev/null || { rm -rf "$2"; cp -r "$1" "$2"; }
  find "$2" -type d -exec chmod u+w {} +
}
copy_module "$upstream_dir" "$build/terraform-provider-aws"
copy_module "$sdk_dir" "$build/terraform-plugin-sdk"

# Keeps, of a generated Go file, the import lines and one-line list entries of the named packages
# and the `func (c *AWSClient) ...` blocks returning their clients; drops the others.
cut_generated() { # file import-prefix "names"
  local file="$1" prefix="$2" names="$3" tmp="$1.cut"
  awk -v prefix="$prefix" -v names="$names" '
    BEGIN { n = split(names, list, " "); for (i = 1; i <= n; i++) keep[list[i]] = 1 }
    function kept(pkg) { return (pkg in keep) }
    skipping { if ($0 ~ /^}/) skipping = 0; next }
    index($0, "\"" prefix) {
      line = $0; sub(/^[^"]*"/, "", line); sub(/".*$/, "", line)
      pkg = substr(line, length(prefix) + 1)
      if (pkg ~ /^[a-z0-9]+$/) { if (!kept(pkg)) next }
      print; next
    }
    /^\t\t[a-z0-9]+\.ServicePackage\(ctx\),$/ {
      pkg = $1; sub(/\..*/, "", pkg); if (!kept(pkg)) next; print; next
    }
    /^func \(c \*AWSClient\) [A-Za-z0-9]+Client\(ctx context\.Context\) \*[a-z0-9]+\.Client \{$/ {
      pkg = $(NF - 1); sub(/^\*/, "", pkg); sub(/\..*/, "", pkg)
      if (!kept(pkg)) { skipping = 1; next }
    }
    { print }
  ' "$file" >"$tmp"
  rm -f "$file" && mv "$tmp" "$file"
}
up="$build/terraform-provider-aws/internal"
cut_generated "$up/provider/sdkv2/service_packages_gen.go" "github.com/hashicorp/terraform-provider-aws/internal/service/" "$SERVICES"
cut_generated "$up/conns/awsclient_gen.go" "github.com/aws/aws-sdk-go-v2/service/" "$CLIENTS"
[ "$(grep -c 'ServicePackage(ctx),' "$up/provider/sdkv2/service_packages_gen.go")" = "$(wc -w <<<"$SERVICES")" ] ||
  fail "cutting the upstream service list failed: internal/provider/sdkv2/service_packages_gen.go has another layout in $UPSTREAM_VERSION"
cp -r "$here/overlay/terraform-provider-aws/." "$build/terraform-provider-aws/"
cp -r "$here/overlay/terraform-plugin-sdk/." "$build/terraform-plugin-sdk/"

# --- 3. the provider ---------------------------------------------------------------------------
mkdir -p "$build/wrapper"
cp "$here/go.mod" "$here/go.sum" "$here/main.go" "$here/schema.json" "$build/wrapper/"
if [ "${ESC_SYNC_AWS_PROVIDER_TIDY:-}" = "1" ]; then
  # For whoever changes a pin: recompute go.sum and write it back into the repository.
  say "go mod tidy (ESC_SYNC_AWS_PROVIDER_TIDY=1): writing $here/go.mod and go.sum"
  (cd "$build/wrapper" && go mod tidy) 2>"$log" || fail "go mod tidy failed: $(go_reason)"
  cp "$build/wrapper/go.mod" "$build/wrapper/go.sum" "$here/"
  say "go.mod and go.sum written; run again without ESC_SYNC_AWS_PROVIDER_TIDY to build (the cache key changed)"
  exit 0
fi
say "downloading the remaining modules"
(cd "$build/wrapper" && go mod download -x 2>&1 | awk '/^# get .*\.zip$/ {n++; if (n % 100 == 0) printf "[aws-provider]   %d modules downloaded\n", n > "/dev/stderr"}') || true
say "compiling (about 5 minutes and 1.1 GB of memory on 2 cores, once; progress every 100 packages)"
partial="$build/pulumi-resource-aws"
if ! (cd "$build/wrapper" && go build -v -trimpath -ldflags "-s -w" -o "$partial" . 2>&1 |
  tee "$log" | awk '/^#|\.go:[0-9]+|^go: / {print > "/dev/stderr"; next} {n++; if (n % 100 == 0) printf "[aws-provider]   %d packages compiled\n", n > "/dev/stderr"}') ||
  [ ! -x "$partial" ]; then
  fail "building the AWS provider failed: $(go_reason)"
fi
"$partial" -version >/dev/null 2>&1 || fail "the built AWS provider does not run ($partial -version failed)"

# Publish atomically: a reader sees the whole binary or none.
staged="$(mktemp -d "$tools/pulumi-resource-aws-staged.XXXXXX")"
mv "$partial" "$staged/pulumi-resource-aws"
rm -rf "$dest"
mv "$staged" "$dest"
say "built: $binary"
succeed "$binary"

#!/usr/bin/env bash
# Makes the container image's base available to buildah without any image registry: a Debian
# bookworm root filesystem built with debootstrap (minbase) from Debian's packages, cached as a
# tarball in the tools folder (ESC_SYNC_TOOLS_DIR, default ~/.cache/esc-sync/tools), then
# committed into buildah's local storage under the name deploy/Dockerfile's BASE_IMAGE defaults
# to (or the one given as $1), so that `buildah bud` finds it locally and never pulls.
#
#   bash scripts/image/base.sh                      # tags docker.io/library/debian:bookworm-slim
#   bash scripts/image/base.sh localhost/esc-sync-base:bookworm
#
# Installs buildah and debootstrap from Debian's packages when missing (apt-get, only as root).
# Prints the tag on stdout. On failure prints one line saying why on stderr and exits 1; with
# ESC_SYNC_IMAGE_RECORD=FILE it also records ESC_SYNC_IMAGE_BASE=<tag> or
# ESC_SYNC_IMAGE_ERROR=<reason> there, for the tests.
set -euo pipefail

SUITE=bookworm
MIRROR="${ESC_SYNC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
tag="${1:-docker.io/library/debian:bookworm-slim}"
tools="${ESC_SYNC_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/esc-sync/tools}"
record="${ESC_SYNC_IMAGE_RECORD:-}"

say() { printf '[image-base] %s\n' "$*" >&2; }
fail() {
  printf '[image-base] error: %s\n' "$1" >&2
  [ -z "$record" ] || printf 'ESC_SYNC_IMAGE_ERROR=%s\n' "$1" >"$record"
  exit 1
}

# --- buildah and debootstrap ---------------------------------------------------------------------
missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    fail "${missing[*]} not installed and this is not a root Debian/Ubuntu shell: install them (apt-get install ${missing[*]}) and run again"
  fi
  say "installing ${missing[*]} from Debian's packages"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >&2 ||
    fail "apt-get install ${missing[*]} failed (see above)"
fi

# --- the root filesystem, cached -------------------------------------------------------------------
mkdir -p "$tools/.locks"
exec 9>"$tools/.locks/image-base.lock"
if ! flock -n 9; then
  say "another run is preparing the base image (lock $tools/.locks/image-base.lock): waiting for it"
  flock -w "${ESC_SYNC_LOCK_TIMEOUT:-3600}" 9 || fail "the base image's lock stayed held: if no other run is going on, remove $tools/.locks/image-base.lock"
fi
rootfs_tar="$tools/debian-$SUITE-minbase.tar"
if [ ! -s "$rootfs_tar" ]; then
  [ "$(id -u)" -eq 0 ] || fail "debootstrap needs root to build the base root filesystem: run this as root once (the result is cached in $tools)"
  say "debootstrap --variant=minbase $SUITE from $MIRROR (a few minutes, once)"
  stage="$(mktemp -d "$tools/debian-rootfs.XXXXXX")"
  trap 'rm -rf "$stage"' EXIT
  debootstrap --variant=minbase "$SUITE" "$stage/root" "$MIRROR" >"$stage/debootstrap.log" 2>&1 ||
    fail "debootstrap failed: $(tail -n1 "$stage/debootstrap.log")"
  rm -rf "$stage/root/var/cache/apt/archives/"*.deb "$stage/root/var/lib/apt/lists/"*
  tar -C "$stage/root" --numeric-owner -cf "$stage/rootfs.tar" .
  mv "$stage/rootfs.tar" "$rootfs_tar"
  rm -rf "$stage"
  trap - EXIT
fi

# --- into buildah's storage under the tag -------------------------------------------------------
if buildah inspect --type image "$tag" >/dev/null 2>&1; then
  say "cached: $tag"
else
  say "committing $rootfs_tar as $tag"
  ctr="$(buildah from scratch)"
  trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
  mnt="$(buildah mount "$ctr")"
  tar -C "$mnt" --numeric-owner -xf "$rootfs_tar"
  buildah umount "$ctr" >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd /bin/bash \
    --label org.opencontainers.image.description="Debian $SUITE minbase, built locally by esc-sync's scripts/image/base.sh" "$ctr"
  buildah commit --quiet --rm "$ctr" "$tag" >/dev/null || fail "buildah commit of the base image failed"
  trap - EXIT
fi
[ -z "$record" ] || printf 'ESC_SYNC_IMAGE_BASE=%s\n' "$tag" >"$record"
printf '%s\n' "$tag"

# shellcheck shell=bash
# Locks for scripts that share a cache folder (the tools cache, a clone's node_modules): two
# provisionings at once must not build into one another's files. Source it, then:
#
#   . "$repo/scripts/lib/lock.sh"
#   lock_acquire "$tools/.locks/tools.lock" "the tools cache ($tools)"   # waits while another holds it
#   ... build into a name from `mktemp`, then `mv` it into place ...
#   lock_release "$tools/.locks/tools.lock"                             # or let the script exit
#
# A lock is an exclusive flock(1) on the file, held by a file descriptor of the calling shell: it
# is released when the script exits (even when killed), so a crashed run never leaves a stale lock
# behind. Waiting is bounded by ESC_SYNC_LOCK_TIMEOUT seconds (default 3600: a cold Go build takes
# minutes). Messages go to stderr, prefixed with LOCK_TAG (default "lock").

declare -gA LOCK_FDS=()

# lock_acquire FILE [WHAT]: takes the lock FILE (created with its folder), waiting for its holder.
lock_acquire() {
  local file=$1 what=${2:-$1} fd
  command -v flock >/dev/null || {
    printf '[%s] error: flock is not installed (util-linux): install it, so that two runs do not share %s unlocked\n' "${LOCK_TAG:-lock}" "$what" >&2
    return 1
  }
  mkdir -p "$(dirname "$file")"
  exec {fd}>>"$file"
  if ! flock -n "$fd"; then
    printf '[%s] waiting for another run using %s (lock %s)\n' "${LOCK_TAG:-lock}" "$what" "$file" >&2
    if ! flock -w "${ESC_SYNC_LOCK_TIMEOUT:-3600}" "$fd"; then
      exec {fd}>&-
      printf '[%s] error: %s stayed locked for %ss (lock %s): if no other run is going on, remove that file and run again\n' \
        "${LOCK_TAG:-lock}" "$what" "${ESC_SYNC_LOCK_TIMEOUT:-3600}" "$file" >&2
      return 1
    fi
  fi
  LOCK_FDS[$file]=$fd
}

# lock_release FILE: releases a lock taken by lock_acquire (a no-op when not held).
lock_release() {
  local fd=${LOCK_FDS[$1]:-}
  [ -n "$fd" ] || return 0
  exec {fd}>&-
  unset "LOCK_FDS[$1]"
}

#!/usr/bin/env bash
# Provisions what esc-sync needs (quietly fast when warm), then runs it:
#   scripts/run.sh sync            # the main job on ./environments.yaml
#   scripts/run.sh plan --output json
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The official esc CLI and evaluator are test peers: running esc-sync never waits for their build.
ESC_SYNC_SKIP_ESC_TOOLS="${ESC_SYNC_SKIP_ESC_TOOLS:-1}" bash "$repo/scripts/provision.sh"
# shellcheck disable=SC1091
set -a && . "$repo/.esc-sync/toolchain.env" && set +a
exec "$ESC_SYNC_NODE" "$repo/dist/orchestrator/cli.js" "$@"

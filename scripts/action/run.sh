#!/usr/bin/env bash
# The step of action.yml (the esc-sync GitHub Action) that runs esc-sync: provisions it with
# scripts/run.sh (Node, the npm packages, the pinned Pulumi CLI; the tools folder is what the
# action caches), runs the command once with a JSON report, then renders that one report as
# Markdown into $GITHUB_STEP_SUMMARY and, for drift, as JUnit, and writes the reports' paths to
# $GITHUB_OUTPUT. Its inputs come as environment variables (action.yml maps them):
#   ESC_SYNC_COMMAND   sync | drift | plan | drift-merge (the JSON drift reports of shards, merged)
#   ESC_SYNC_REPORTS   drift-merge: the shards' JSON reports, paths or globs separated by spaces
#   ESC_SYNC_MANIFEST  the manifest, relative to the working directory
#   ESC_SYNC_SHARD     INDEX/COUNT or empty (all pairs)
#   ESC_SYNC_OUTPUT    json | junit (junit: drift only): which report `report` points at
#   ESC_SYNC_FAIL_ON_DRIFT  true | false: whether drift's "differences found" (exit 2) fails the step
#   ESC_SYNC_ARGS      more arguments for the command, split on spaces
#   ESC_SYNC_ACTION_PATH  the action's checkout (github.action_path)
# Outputs: report, json-report, junit-report (drift, drift-merge), exit-code.
set -euo pipefail

action="${ESC_SYNC_ACTION_PATH:?ESC_SYNC_ACTION_PATH is not set: run this from action.yml}"
command="${ESC_SYNC_COMMAND:-drift}"
manifest="${ESC_SYNC_MANIFEST:-environments.yaml}"
shard="${ESC_SYNC_SHARD:-}"
output="${ESC_SYNC_OUTPUT:-json}"
fail_on_drift="${ESC_SYNC_FAIL_ON_DRIFT:-true}"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
outputs="${GITHUB_OUTPUT:-/dev/null}"

bad() { printf '::error title=esc-sync action::%s\n' "$1" >&2; exit 1; }
case "$command" in sync | drift | plan | drift-merge) ;; *) bad "input command is \"$command\": use sync, drift, plan or drift-merge" ;; esac
case "$output" in json) ;; junit) [ "${command%-merge}" = drift ] || bad "input output is junit, which only drift writes: use output: json with $command" ;;
  *) bad "input output is \"$output\": use json or junit" ;; esac
case "$fail_on_drift" in true | false) ;; *) bad "input fail-on-drift is \"$fail_on_drift\": use true or false" ;; esac
[ -z "$shard" ] || [[ "$shard" =~ ^[0-9]+/[1-9][0-9]*$ ]] || bad "input shard is \"$shard\": use INDEX/COUNT, e.g. 0/3 (or leave it empty)"
if [ "$command" = drift-merge ]; then
  shopt -s nullglob
  # shellcheck disable=SC2206 # globs, expanded here
  merged=(${ESC_SYNC_REPORTS:-})
  shopt -u nullglob
  [ "${#merged[@]}" -gt 0 ] || bad "input reports: \"${ESC_SYNC_REPORTS:-}\" names no file in $(pwd): give the shards' JSON drift reports (e.g. drift-*/*.json)"
else
  [ -f "$manifest" ] || bad "input manifest: $manifest not found in $(pwd)"
fi

reports="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/esc-sync-reports"
mkdir -p "$reports"
name="esc-sync-$command${shard:+-${shard%%/*}-of-${shard##*/}}"
json="$reports/$name.json"
args=(--manifest "$manifest" ${shard:+--shard "$shard"})
# shellcheck disable=SC2206 # extra arguments split on spaces, as documented
extra=(${ESC_SYNC_ARGS:-})

code=0
if [ "$command" = drift-merge ]; then
  bash "$action/scripts/run.sh" drift merge "${merged[@]}" --output json --out "$json" || code=$?
elif [ "$command" = drift ]; then
  bash "$action/scripts/run.sh" drift "${args[@]}" "${extra[@]}" --output json --out "$json" || code=$?
else
  bash "$action/scripts/run.sh" "$command" "${args[@]}" "${extra[@]}" --output json >"$json" || code=$?
fi
[ -s "$json" ] || bad "esc-sync $command wrote no report (exit $code): see its messages above"

# The Markdown and JUnit come from the same JSON report: drift's by its own merge command (one
# report merged alone is that report), sync's and plan's by a small renderer.
{
  printf '## esc-sync %s%s\n\n' "$command" "${shard:+ (shard $shard)}"
  if [ "${command%-merge}" = drift ]; then
    bash "$action/scripts/run.sh" drift merge "$json" --output markdown
  else
    set -a && . "$action/.esc-sync/toolchain.env" && set +a
    "$ESC_SYNC_NODE" "$action/scripts/action/summary.mjs" "$json"
  fi
} >>"$summary" 2>/dev/null || printf '(the Markdown report could not be rendered: see the JSON report %s)\n' "$json" >>"$summary"

{
  printf 'json-report=%s\n' "$json"
  if [ "${command%-merge}" = drift ]; then
    junit="$reports/$name.xml"
    bash "$action/scripts/run.sh" drift merge "$json" --output junit --out "$junit" 2>/dev/null || true
    printf 'junit-report=%s\n' "$junit"
  fi
  if [ "$output" = junit ]; then printf 'report=%s\n' "$junit"; else printf 'report=%s\n' "$json"; fi
  printf 'exit-code=%s\n' "$code"
} >>"$outputs"

# drift: 0 in sync, 2 differences, 1 errors.
if [ "${command%-merge}" = drift ] && [ "$code" = 2 ] && [ "$fail_on_drift" = false ]; then exit 0; fi
exit "$code"

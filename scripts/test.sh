#!/usr/bin/env bash
# The whole test suite, from a fresh machine: provisions Node, the npm packages and the Pulumi
# CLI (scripts/provision.sh), type-checks the sources and the tests, checks the import rules and
# the documentation's links, then runs the unit tests, the end-to-end tests and the fault suite
# (every vitest project; its figures are repeated at the end).
#   scripts/test.sh                 # everything
#   scripts/test.sh --project unit  # extra arguments go to vitest
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/provision.sh"
# shellcheck disable=SC1091
set -a && . "$repo/.esc-sync/toolchain.env" && set +a
export PATH="$(dirname "$ESC_SYNC_NODE"):$ESC_SYNC_PULUMI_ROOT/bin:$PATH"
cd "$repo"
# The tests are TypeScript too: a type error in a test (or in a source only tests reach) fails
# here, before any test runs, with tsc's message.
echo "[test] type-checking sources and tests (tsconfig.test.json)" >&2
node node_modules/typescript/bin/tsc -p tsconfig.test.json --noEmit || {
  echo "[test] type errors (above): fix them first; no test was run" >&2
  exit 1
}
# The import rules (no cycles; programs/ never imports orchestrator/; commands never import each other).
echo "[test] checking the import rules (.dependency-cruiser.cjs)" >&2
node node_modules/dependency-cruiser/bin/dependency-cruiser.mjs orchestrator programs --config .dependency-cruiser.cjs >&2
# The documentation's links: every link of the Markdown files to a file, a folder or a heading of
# the repository resolves (remark-validate-links, .remarkrc.mjs). Offline, so links to web pages
# are not checked (docs/contributing.md says so).
echo "[test] checking the documentation's links (.remarkrc.mjs)" >&2
node node_modules/remark-cli/cli.js --frail --quiet --no-stdout --ignore-path .remarkignore . >&2 || {
  echo "[test] broken links in the documentation (above, each with its file and line): fix them first; no test was run" >&2
  exit 1
}
node scripts/actionlint/check.mjs >&2 # actionlint (built from the Go module proxy) over action.yml and the docs' workflow examples
# The AWS end-to-end tests' peers: moto (scripts/moto.sh) and a real AWS provider built from
# upstream parts (scripts/aws-provider/build.sh: minutes once, cached in the tools folder); the
# Kubernetes tests' API server and etcd (scripts/kube/build.sh, the same way). A
# failure does not stop the suite: the tests that need them fail with its one-line reason. A run
# of the unit tests alone needs neither.
case " $* " in
  *" --project unit "*) ;;
  *)
    bash "$repo/scripts/moto.sh" "$repo/.esc-sync/moto.env" >/dev/null || true
    bash "$repo/scripts/aws-provider/build.sh" "$repo/.esc-sync/aws-provider.env" >/dev/null || true
    bash "$repo/scripts/kube/build.sh" "$repo/.esc-sync/kube.env" >/dev/null || true
    ;;
esac
results="$(mktemp)"
# The fault suite (test/faults/) writes one line of figures per case here; shown at the end.
ESC_SYNC_FAULT_FIGURES="$(mktemp)"
export ESC_SYNC_FAULT_FIGURES
status=0
node node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
if [ -s "$ESC_SYNC_FAULT_FIGURES" ]; then
  echo "fault suite figures:"
  cat "$ESC_SYNC_FAULT_FIGURES"
fi
rm -f "$ESC_SYNC_FAULT_FIGURES"
# A closing line CI can read whatever the runner: "N passed, N failed".
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$results" || true
rm -f "$results"
exit "$status"

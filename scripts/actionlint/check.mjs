// Lints the GitHub Action (action.yml) and every workflow example in the docs with actionlint
// (scripts/actionlint/build.sh builds it once into the tools folder):
//   node scripts/actionlint/check.mjs                  # action.yml + the ```yaml blocks of README.md and docs/*.md
//   node scripts/actionlint/check.mjs FILE.yml …       # these workflow files instead of the docs' blocks
//   node scripts/actionlint/check.mjs --markdown F.md … # the blocks of these Markdown files instead
// A ```yaml block with a top-level `jobs:` is a workflow (given `on: workflow_dispatch` when it has
// no `on:`), one with a top-level `runs:` an action's metadata. actionlint reads a workflow, so the
// files go into a scratch repository where the action sits at the root and a workflow uses it with
// `uses: ./`: actionlint then checks action.yml itself (runner, inputs, outputs) and every
// `with:` of the examples against its inputs; the examples' `uses: esc-sync/esc-sync@…` is pointed
// at it the same way. Each problem is printed as FILE:LINE (the Markdown file and line for a
// block); exit 1 when there is any.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative } from "node:path";

const repo = join(import.meta.dirname, "..", "..");
/** A file as messages name it: relative to the repository when inside it, else as given. */
const shown = (file) => {
  const r = relative(repo, file);
  return r.startsWith("..") || isAbsolute(r) ? file : r;
};
const OUR_ACTION = /uses:\s*esc-sync\/esc-sync@[\w.-]+/g;

/** The ```yaml blocks of a Markdown file that are workflows or actions, with their first line. */
export function workflowBlocks(markdown) {
  const blocks = [];
  const re = /^```ya?ml[^\n]*\n([\s\S]*?)^```/gm;
  for (const m of markdown.matchAll(re)) {
    const text = m[1];
    const kind = /^jobs:/m.test(text) ? "workflow" : /^runs:/m.test(text) ? "action" : undefined;
    if (!kind) continue;
    const line = markdown.slice(0, m.index).split("\n").length + 1;
    blocks.push({ kind, text, line });
  }
  return blocks;
}

function markdownFiles() {
  if (process.argv[2] === "--markdown") return process.argv.slice(3);
  const files = [join(repo, "README.md")];
  const docs = join(repo, "docs");
  if (existsSync(docs)) for (const f of readdirSync(docs, { recursive: true })) if (String(f).endsWith(".md")) files.push(join(docs, String(f)));
  return files.filter((f) => existsSync(f));
}

const actionlint = execFileSync("bash", [join(repo, "scripts", "actionlint", "build.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
const scratch = mkdtempSync(join(tmpdir(), "esc-sync-actionlint-"));
try {
  mkdirSync(join(scratch, ".github", "workflows"), { recursive: true });
  cpSync(join(repo, "action.yml"), join(scratch, "action.yml"));
  execFileSync("git", ["init", "-q", scratch]); // actionlint finds .github/workflows from the repository's root
  /** scratch file → [where it came from, the line offset to add]. */
  const origin = new Map();
  const add = (name, text, from, offset) => {
    writeFileSync(join(scratch, name), text);
    origin.set(name, [from, offset]);
  };
  // action.yml, through a workflow that uses it (actionlint checks a local action's metadata there).
  add(".github/workflows/uses-action.yml", "on: workflow_dispatch\njobs:\n  use:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./\n", "action.yml (used by a workflow)", 0);
  const given = process.argv[2] === "--markdown" ? [] : process.argv.slice(2);
  if (given.length) {
    given.forEach((f, i) => add(`.github/workflows/given-${i}.yml`, readFileSync(f, "utf8").replace(OUR_ACTION, "uses: ./"), f, 0));
  } else {
    let n = 0;
    for (const md of markdownFiles()) {
      for (const b of workflowBlocks(readFileSync(md, "utf8"))) {
        n++;
        const from = shown(md);
        if (b.kind === "workflow") {
          const hasOn = /^(on|"on"|true):/m.test(b.text);
          const text = (hasOn ? "" : "on: workflow_dispatch\n") + b.text.replace(OUR_ACTION, "uses: ./");
          add(`.github/workflows/doc-${n}.yml`, text, from, b.line - 1 - (hasOn ? 0 : 1));
        } else {
          mkdirSync(join(scratch, "doc-actions", String(n)), { recursive: true });
          add(`doc-actions/${n}/action.yml`, b.text, from, b.line - 1);
          add(`.github/workflows/doc-${n}-uses.yml`, `on: workflow_dispatch\njobs:\n  use:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./doc-actions/${n}\n`, `${from} (the action at line ${b.line})`, 0);
        }
      }
    }
    console.log(`[actionlint] action.yml and ${n} workflow example(s) from ${markdownFiles().map(shown).join(", ")}`);
  }
  const r = spawnSync(actionlint, ["-oneline", "-no-color"], { cwd: scratch, encoding: "utf8" });
  const out = (r.stdout + r.stderr).trim();
  for (const line of out ? out.split("\n") : []) {
    const m = /^(.+?):(\d+):(\d+): (.*)$/.exec(line);
    const o = m && origin.get(m[1]);
    console.log(o ? `${o[0]}:${Number(m[2]) + o[1]}:${m[3]}: ${m[4]}` : line);
  }
  if (r.status !== 0) {
    console.log(`[actionlint] ${out ? out.split("\n").length : 0} problem(s) (exit ${r.status})`);
    process.exitCode = 1;
  } else console.log("[actionlint] no problems");
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

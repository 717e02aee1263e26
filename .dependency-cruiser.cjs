/**
 * Import rules CI enforces (`npm run check:imports`): no cycles, between modules or between
 * folders; the orchestrator uses the programs, never the other way round; the planner decides from
 * data and never imports the runner; commands are thin uses of the session and never import each
 * other.
 */
module.exports = {
  forbidden: [
    { name: "no-cycles", severity: "error", from: {}, to: { circular: true } },
    {
      name: "no-folder-cycles",
      comment: "folders depend one way: a folder that imports another is never imported back by it (directly or through others)",
      severity: "error",
      scope: "folder",
      from: {},
      to: { circular: true },
    },
    {
      name: "planner-not-runner",
      comment: "the planner decides from data alone: it may not import the runner (the runner imports the planner's types)",
      severity: "error",
      from: { path: "^orchestrator/planner/" },
      to: { path: "^orchestrator/runner/" },
    },
    {
      name: "programs-stand-alone",
      comment: "programs/ is the target kinds' side of the contract: it imports nothing from orchestrator/",
      severity: "error",
      from: { path: "^programs/" },
      to: { path: "^orchestrator/" },
    },
    {
      name: "commands-independent",
      comment: "a command may not import another command: shared steps belong in the session",
      severity: "error",
      from: { path: "^orchestrator/commands/([^/]+)\\.ts$" },
      to: { path: "^orchestrator/commands/", pathNot: "^orchestrator/commands/$1\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|node_modules)/" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
  },
};

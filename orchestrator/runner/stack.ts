/**
 * One pair's Pulumi stack: a workspace in a work directory of its own, the inline program, and
 * the operations a run performs on it. Knows nothing of target kinds: it receives a `PulumiFn`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as automation from "@pulumi/pulumi/automation/index.js";
import type { ChangeCounts } from "./events.js";
import { noChanges } from "./events.js";
import { isEngineSummary } from "./failures.js";
import { PAIR_MARK } from "./processes.js";
import { leanCommand } from "./pulumi-command.js";
import type { Toolchain } from "./toolchain.js";

/** The one Pulumi project every esc-sync stack belongs to. */
export const PROJECT_NAME = "esc-sync";

/** Where state lives and how its secrets are encrypted. */
export interface Backend {
  url: string;
  secretsProvider: string;
}

/** Options for a workspace of the esc-sync project; `pair` marks its processes as that pair's. */
export function workspaceOptions(
  backend: Backend,
  toolchain: Toolchain,
  workDir: string,
  program?: automation.PulumiFn,
  pair?: string,
): automation.LocalWorkspaceOptions {
  return {
    workDir,
    ...(program ? { program } : {}),
    // One per workspace: it follows the workspace's own calls.
    pulumiCommand: leanCommand(toolchain.command),
    secretsProvider: backend.secretsProvider,
    projectSettings: { name: PROJECT_NAME, runtime: "nodejs", backend: { url: backend.url } },
    envVars: { ...toolchain.env, ...(pair ? { [PAIR_MARK]: pair } : {}) },
  };
}

/**
 * The stack of a pair, selected (the inventory has just found it) or created. The workspace's
 * command ({@link leanCommand}, set by {@link workspaceOptions}) leaves out the CLI calls esc-sync
 * needs no answer from: the select itself, and the outputs and history read after each operation.
 */
export async function leanStack(name: string, ws: automation.LocalWorkspace, mode: "select" | "create"): Promise<automation.Stack> {
  return mode === "create" ? automation.Stack.create(name, ws) : automation.Stack.select(name, ws);
}

/** Runs `fn` with a fresh work directory, removed afterwards whatever happens. */
export async function withWorkDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `esc-sync-${prefix.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 40)}-`));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Counts resource steps and collects error diagnostics from the engine's event stream. */
export class EngineEventTally {
  readonly changes = noChanges();
  readonly errors: string[] = [];
  constructor(private readonly onStep?: (resource: string, op: string) => void) {}

  /** Feed for `onEvent`. */
  readonly handle = (event: automation.EngineEvent): void => {
    const step = event.resOutputsEvent?.metadata ?? event.resOpFailedEvent?.metadata;
    if (event.resourcePreEvent && !event.resourcePreEvent.planning) {
      const m = event.resourcePreEvent.metadata;
      if (isOwnResource(m.type)) this.onStep?.(resourceName(m.urn), m.op);
    }
    if (event.resOutputsEvent && step && isOwnResource(step.type)) this.count(step.op);
    if (event.diagnosticEvent && event.diagnosticEvent.severity === "error") {
      const text = event.diagnosticEvent.message.trim();
      // The engine's closing "update failed" says nothing the resource's own error did not.
      if (text && !isEngineSummary(text) && !this.errors.includes(text)) this.errors.push(text);
    }
  };

  /** For previews: the planned steps, which arrive as pre-events. */
  readonly handlePreview = (event: automation.EngineEvent): void => {
    const m = event.resourcePreEvent?.metadata;
    if (m && isOwnResource(m.type)) this.count(m.op);
    this.handle({ ...event, resOutputsEvent: undefined } as automation.EngineEvent);
  };

  private count(op: string): void {
    switch (op) {
      case "create":
        this.changes.create++;
        break;
      case "update":
        this.changes.update++;
        break;
      case "delete":
        this.changes.delete++;
        break;
      case "replace":
      case "create-replacement":
        this.changes.replace++;
        break;
      case "same":
        this.changes.same++;
        break;
      default:
        break; // refresh, read, delete-replaced...: not a change of their own
    }
  }
}

function isOwnResource(type: string): boolean {
  return type !== "pulumi:pulumi:Stack" && !type.startsWith("pulumi:providers:");
}

function resourceName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/**
 * Closes the gRPC clients an inline program's run leaves open. The Pulumi SDK (3.276.0) keeps an
 * inline run's clients to the engine and the resource monitor in the run's own store
 * (`settings.monitor`, `settings.engine` in runtime/settings.js), but its `disconnectSync` closes
 * only the module-level ones, which inline runs never set. Each `up`, `preview` or program-running
 * `refresh` so leaves two channels open, each with a 30-minute idle timer whose async context holds
 * the run's whole store (stack resource, resources, outputs): found by the soak
 * (test/faults/soak.test.ts), where serve's heap after a full GC grew by 13% in 120 s, 224
 * `LocalStore`s and 446 `InternalChannel`s alive at rest, retained through Timeout -> AsyncContextFrame.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";

/** What a gRPC client offers: `close` (grpc-js `Client`). */
interface Closable {
  close(): void;
}

/** The clients of the inline runs of one pair's stack, closed once its operations are over. */
export class RuntimeClients {
  #open = new Set<Closable>();

  /**
   * `program`, noting the clients its run uses. `getEngine` creates the engine client if the run
   * has not yet: the one the SDK then uses for the rest of the run, so that none escapes.
   */
  wrap(program: PulumiFn): PulumiFn {
    return async () => {
      try {
        return await program();
      } finally {
        for (const client of [pulumi.runtime.getMonitor(), pulumi.runtime.getEngine()]) {
          if (client && typeof (client as Partial<Closable>).close === "function") this.#open.add(client as unknown as Closable);
        }
      }
    };
  }

  /** How many clients are noted and not yet closed. */
  get open(): number {
    return this.#open.size;
  }

  /** Closes every noted client: call once the stack's operations have returned (their runs are over). */
  closeAll(): void {
    for (const client of this.#open) {
      try {
        client.close();
      } catch {
        // A client that cannot close holds nothing more to release.
      }
    }
    this.#open.clear();
  }
}

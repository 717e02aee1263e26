/**
 * Sandbox states that end-to-end tests start from: each built by the real CLI on first use, then
 * saved, and restored before every test that asks for it. Every test can run alone (`-t`), builds
 * only the states it needs, and never sees what another test did; a state several tests share is
 * built once per file.
 *
 *   const synced = sandboxState("synced", async (box) => { ...; return box.syncJson(); });
 *   const drifted = synced.next("drifted", (box) => { ...edit a target file... });
 *   afterAll(() => synced.cleanup());
 *   it("...", async () => { const { box, value } = await drifted.enter(); ... });
 *
 * A state is restored into the folder it was built in, never copied elsewhere: Pulumi state and
 * target settings hold absolute paths (the `file` target's path), so a copy in another folder
 * would not be the same state. The tests of a file run one after another (vitest's default), which
 * is what makes restoring into one folder safe.
 */
import { cpSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Sandbox } from "./sandbox.js";

/** What a state needs of a sandbox: its folder, and a way to remove it. */
export interface Folder {
  readonly dir: string;
  cleanup(): void;
}

/** What {@link SandboxState.enter} gives a test: the sandbox, in that state, and what the build returned. */
export interface Entered<T, B extends Folder = Sandbox> {
  box: B;
  value: T;
}

/** The folder shared by one chain of states, and the saved copies of it. */
class Home<B extends Folder> {
  #box: B | undefined;
  readonly #snapshots: string[] = [];
  constructor(private readonly makeBox: () => B) {}

  get box(): B {
    this.#box ??= this.makeBox();
    return this.#box;
  }

  /** Beside the sandbox (`<dir>.states/<n>`), outside the folder it copies. */
  snapshot(): string {
    const copy = join(`${this.box.dir}.states`, String(this.#snapshots.length));
    cpSync(this.box.dir, copy, { recursive: true, preserveTimestamps: true });
    this.#snapshots.push(copy);
    return copy;
  }

  restore(snapshot: string): void {
    const dir = this.box.dir;
    for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
    cpSync(snapshot, dir, { recursive: true, preserveTimestamps: true });
  }

  cleanup(): void {
    if (!this.#box) return;
    rmSync(`${this.#box.dir}.states`, { recursive: true, force: true });
    this.#snapshots.length = 0;
    this.#box.cleanup();
  }
}

type Outcome<T> = { ok: true; value: T; snapshot: string } | { ok: false; error: unknown };

/** One state of a sandbox; see the module comment. */
export class SandboxState<T, B extends Folder = Sandbox> {
  #outcome: Outcome<T> | undefined;

  /** @internal use {@link sandboxState} and {@link SandboxState.next}. */
  constructor(
    private readonly home: Home<B>,
    readonly name: string,
    private readonly build: (box: B) => Promise<T> | T,
  ) {}

  /**
   * Puts the sandbox in this state and returns it: restored from the saved copy, or built (with
   * the states before it) on first use. A build that failed fails every test that needs it, with
   * the cause, without being tried again.
   */
  async enter(): Promise<Entered<T, B>> {
    if (!this.#outcome) {
      try {
        const value = await this.build(this.home.box);
        this.#outcome = { ok: true, value, snapshot: this.home.snapshot() };
        return { box: this.home.box, value };
      } catch (error) {
        this.#outcome = { ok: false, error };
      }
    }
    if (!this.#outcome.ok) {
      const cause = this.#outcome.error;
      throw new Error(`the sandbox state "${this.name}" could not be built: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    this.home.restore(this.#outcome.snapshot);
    return { box: this.home.box, value: this.#outcome.value };
  }

  /** A state made from this one by `build` (which gets this state's value too). */
  next<U>(name: string, build: (box: B, from: T) => Promise<U> | U): SandboxState<U, B> {
    return new SandboxState(this.home, name, async () => {
      const { box, value } = await this.enter();
      return build(box, value);
    });
  }

  /** Removes the sandbox and every saved state of this chain (call it once, in `afterAll`). */
  cleanup(): void {
    this.home.cleanup();
  }
}

/**
 * The first state of a new sandbox: what `build` makes of it. `makeBox` creates the sandbox (on
 * first use, so that it can read what `beforeAll` set up); a plain {@link Sandbox} by default.
 */
export function sandboxState<T>(name: string, build: (box: Sandbox) => Promise<T> | T, makeBox?: () => Sandbox): SandboxState<T>;
export function sandboxState<T, B extends Folder>(name: string, build: (box: B) => Promise<T> | T, makeBox: () => B): SandboxState<T, B>;
export function sandboxState<T, B extends Folder>(name: string, build: (box: B) => Promise<T> | T, makeBox?: () => B): SandboxState<T, B> {
  // Without makeBox, B is Sandbox (the first overload).
  return new SandboxState(new Home(makeBox ?? ((() => new Sandbox()) as unknown as () => B)), name, build);
}

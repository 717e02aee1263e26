/**
 * What every fault case shares: its one line of figures, and the proof that no process of the
 * case is left (serve itself, and every Pulumi process carrying a serve's run mark).
 */
import { execFileSync } from "node:child_process";
import { get as httpGet } from "node:http";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { markedProcesses } from "../../orchestrator/runner/processes.js";

/**
 * Prints `[faults] <case>: k=v k=v` and, when `ESC_SYNC_FAULT_FIGURES` names a file (scripts/test.sh
 * sets it), appends the line there too, for the run's closing note.
 */
export function figures(name: string, values: Record<string, string | number | boolean>): void {
  const line = `[faults] ${name}: ${Object.entries(values).map(([k, v]) => `${k}=${v}`).join(" ")}`;
  console.log(line);
  const file = process.env.ESC_SYNC_FAULT_FIGURES;
  if (file) appendFileSync(file, line + "\n");
}

/** Processes still alive among `pids`, those marked by one of them, and any whose command line names `dir`. */
export function leftovers(pids: number[], dir: string): string[] {
  const left: string[] = [];
  for (const pid of pids) {
    try {
      process.kill(pid, 0);
      left.push(`serve ${pid}`);
    } catch {
      // gone
    }
  }
  for (const p of markedProcesses()) if (pids.some((pid) => p.run.startsWith(`${pid}.`))) left.push(`marked ${p.pid} (${p.run})`);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    if (cmdline.includes(dir)) left.push(`${entry}: ${cmdline.slice(0, 160)}`);
  }
  return left;
}

/** Percentile `p` (0..1) of `values`, 0 for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/** Every file under `d` whose name `pick` accepts (none when `d` does not exist). */
export function walk(d: string, pick: (name: string) => boolean): string[] {
  if (!existsSync(d)) return [];
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name), pick) : pick(e.name) ? [join(d, e.name)] : []));
}

/** Resident memory of `pid`, in MiB (0 once it is gone). */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function readLinks(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    try {
      out.push(readlinkSync(`${dir}/${e}`));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** Every process below `pid` (by parent), plus every process carrying a run mark of `pid`. */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone
    }
  }
  const below = new Set<number>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, pp] of parent) if (!below.has(p) && (pp === pid || below.has(pp))) (below.add(p), (grew = true));
  }
  for (const m of markedProcesses()) if (m.run.startsWith(`${pid}.`)) below.add(m.pid);
  return [...below];
}

/** TCP sockets of the network namespace by inode: local and remote `addr:port` (hex, as /proc has them) and state. */
function tcpSockets(pid: number): Map<string, { local: string; remote: string; state: string }> {
  const out = new Map<string, { local: string; remote: string; state: string }>();
  for (const table of ["tcp", "tcp6"]) {
    let text = "";
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
    } catch {
      continue;
    }
    for (const row of text.split("\n").slice(1)) {
      const f = row.trim().split(/\s+/);
      if (f.length < 10) continue;
      out.set(f[9]!, { local: f[1]!, remote: f[2]!, state: f[3]! });
    }
  }
  return out;
}

const port = (hexAddr: string) => parseInt(hexAddr.slice(hexAddr.lastIndexOf(":") + 1), 16);

/**
 * One look at a process's open descriptors, each named (readlink of /proc/<pid>/fd/*) and sorted
 * into what it is: `child` when its other end belongs to a live process below `pid` (a pipe also
 * open there, or a loopback TCP connection whose peer socket is open there), else by kind
 * (`pipe`, `tcp <state> :<port>`, `tcp listen :<port>`, `unix`, `anon:<what>`, a path).
 * `persistent` counts every descriptor not held for a live child: what a leak would grow.
 */
export interface FdSample {
  total: number;
  child: number;
  persistent: number;
  children: number;
  /** Kind → count, over the descriptors not held for a live child. */
  kinds: Record<string, number>;
}

/** Unix socket peers of the namespace (inode → peer inode), from `ss -xan`; empty where `ss` is missing. */
function unixPeers(): Map<string, string> {
  const peers = new Map<string, string>();
  let text = "";
  try {
    text = execFileSync("ss", ["-xan"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return peers;
  }
  for (const row of text.split("\n").slice(1)) {
    // u_str ESTAB 0 0 <path or *> <inode> <peer path or *> <peer inode>
    const f = row.trim().split(/\s+/);
    if (f.length >= 8) peers.set(f[5]!, f[7]!);
  }
  return peers;
}

export function sampleFds(pid: number, ownPorts: number[] = []): FdSample {
  const links = readLinks(pid);
  const kids = descendants(pid);
  const kidLinks = new Set(kids.flatMap(readLinks));
  const tcp = tcpSockets(pid);
  const byEnds = new Map<string, string>();
  for (const [inode, s] of tcp) byEnds.set(`${s.local}>${s.remote}`, inode);
  /** Ports the children are connected to (a gRPC server serve runs for an engine, say). */
  const kidRemotePorts = new Set([...tcp].filter(([inode]) => kidLinks.has(`socket:[${inode}]`)).map(([, s]) => port(s.remote)));
  const unix = unixPeers();
  const kinds: Record<string, number> = {};
  let child = 0;
  for (const link of links) {
    let kind: string;
    const socket = /^socket:\[(\d+)\]$/.exec(link);
    if (link.startsWith("pipe:")) kind = kidLinks.has(link) ? "child" : "pipe";
    else if (socket) {
      const s = tcp.get(socket[1]!);
      if (!s) {
        const peer = unix.get(socket[1]!);
        kind = kidLinks.has(link) || (peer !== undefined && kidLinks.has(`socket:[${peer}]`)) ? "child" : unix.has(socket[1]!) ? "unix" : "socket (other)";
      } else if (s.state === "0A") kind = ownPorts.includes(port(s.local)) ? "tcp listen (serve's own)" : kidRemotePorts.has(port(s.local)) ? "child" : "tcp listen (other)";
      else {
        const peer = byEnds.get(`${s.remote}>${s.local}`);
        if (peer && kidLinks.has(`socket:[${peer}]`)) kind = "child";
        else if (ownPorts.includes(port(s.local))) kind = "tcp in (to serve's port)";
        else kind = `tcp out (to :${port(s.remote)}, state ${s.state})`;
      }
    } else if (link.startsWith("anon_inode:")) kind = `anon:${link.slice("anon_inode:".length)}`;
    else kind = link.startsWith("/dev/") ? link : link.replace(/\/[^/]*$/, "/…");
    if (kind === "child") child++;
    else kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return { total: links.length, child, persistent: links.length - child, children: kids.length, kinds };
}

/**
 * How to give one process (and its children) a small tmpfs over `dir`, so that a disk can fill
 * up under it: a mount namespace of its own, rootless where unprivileged user namespaces are
 * allowed (`unshare -Urm`), else as root (`unshare -m`). The wrapper execs its command (same
 * pid); the test reaches the tmpfs through `/proc/<pid>/root<dir>` (`dir` must exist by then).
 * `skip`: why neither works here.
 */
export function tmpfsWrapper(dir: string, size: string): { wrap: string[]; how: string } | { skip: string } {
  const script = 'mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$2" && shift 2 && exec "$@"';
  const reasons: string[] = [];
  for (const [how, flags] of [
    ["rootless (unshare -Urm)", ["-Urm"]],
    ["as root (unshare -m)", ["-m"]],
  ] as const) {
    if (how.startsWith("as root") && process.getuid?.() !== 0) continue;
    const probe = mkdtempSync(join(tmpdir(), "esc-sync-tmpfs-probe-"));
    try {
      execFileSync("unshare", [...flags, "sh", "-c", script, "sh", "1m", probe, "true"], { stdio: ["ignore", "ignore", "pipe"] });
      return { wrap: ["unshare", ...flags, "sh", "-c", script, "sh", size, dir], how };
    } catch (err) {
      reasons.push(`${how}: ${String((err as { stderr?: Buffer }).stderr ?? err).trim().split("\n")[0]}`);
    } finally {
      rmSync(probe, { recursive: true, force: true });
    }
  }
  return { skip: `no tmpfs of its own for serve here (${reasons.join("; ") || "not root, no user namespaces"})` };
}

/** `GET path` on a connection of its own, closed after the answer (no keep-alive socket left in serve). */
function getOnce(url: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpGet(`${url}${path}`, { agent: false, headers: { Connection: "close" } }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => (text += d)).on("end", () => resolve(text)).on("error", reject);
    });
    req.on("error", reject);
  });
}

/**
 * Waits until serve is at rest (no cycle running or queued, no child process), stays so past its
 * keep-alive timeout (idle connections closed, 5 s) with no cycle started meanwhile (a no-op
 * reconcile can start and end within that time, leaving fresh pooled connections), and samples
 * its descriptors then. `cyclesStarted`: how many cycles serve has started so far (its log).
 */
export async function atRest(serve: { pid: number; url: string }, ownPorts: number[], cyclesStarted: () => number, timeoutMs = 600_000): Promise<FdSample> {
  const idle = async () => {
    const st = JSON.parse(await getOnce(serve.url, "/status")) as { busy: boolean; queueDepth: number };
    return !st.busy && st.queueDepth === 0 && descendants(serve.pid).length === 0;
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const cycles = cyclesStarted();
    if (await idle()) {
      await new Promise((r) => setTimeout(r, 7_000));
      const fds = sampleFds(serve.pid, ownPorts);
      if (cyclesStarted() === cycles && (await idle())) return fds;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("serve never came to rest");
}

/** The inspector's WebSocket URL a process started with `--inspect=127.0.0.1:0` printed on stderr. */
export function inspectorUrl(stderr: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
}

/**
 * The JavaScript heap in use after a full garbage collection, in MiB, asked through the process's
 * inspector (Chrome DevTools Protocol: `HeapProfiler.collectGarbage`, `Runtime.getHeapUsage`).
 * What a memory leak grows; RSS also holds heap V8 reserved and has not given back.
 */
export async function heapAfterGc(url: string): Promise<number> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`cannot reach the inspector at ${url}`));
  });
  let next = 0;
  const call = (method: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = ++next;
      const onMessage = (ev: MessageEvent) => {
        const m = JSON.parse(String(ev.data)) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
        if (m.id !== id) return;
        ws.removeEventListener("message", onMessage);
        if (m.error) reject(new Error(`${method}: ${m.error.message}`));
        else resolve(m.result ?? {});
      };
      ws.addEventListener("message", onMessage);
      ws.send(JSON.stringify({ id, method }));
    });
  try {
    await call("HeapProfiler.collectGarbage");
    return Number((await call("Runtime.getHeapUsage")).usedSize) / 2 ** 20;
  } finally {
    ws.close();
  }
}

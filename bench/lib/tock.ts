// The real program, driven as a user would: `tock` commands as child processes against a
// store in a temp directory (TOCK_DB; HOME and XDG_STATE_HOME point there too, so the
// user's own store is never touched), and `tock daemon` children whose log goes to a file.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stopChild } from './server.js';
import { ROOT, isolatedEnv } from '../../test/helpers/store-env.js';

export { ROOT };
/** The tock measured; TOCK_BENCH_BIN points at another build's bin/tock.js, for before/after comparisons. */
export const BIN = process.env.TOCK_BENCH_BIN ? path.resolve(process.env.TOCK_BENCH_BIN) : path.join(ROOT, 'bin', 'tock.js');

export interface Sandbox {
  dir: string;
  db: string;
  env: NodeJS.ProcessEnv;
}

let sandboxes = 0;
let root: string | undefined;

/** The benchmark's temp directory; removed by cleanupSandboxes() unless --keep. */
export function benchDir(): string {
  root ??= fs.mkdtempSync(path.join(os.tmpdir(), 'tock-bench-'));
  return root;
}

export function cleanupSandboxes(): void {
  if (root) fs.rmSync(root, { recursive: true, force: true });
  root = undefined;
}

export function sandbox(label: string): Sandbox {
  const dir = path.join(benchDir(), `${String(++sandboxes).padStart(2, '0')}-${label}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 }); // whatever the umask: tock refuses a directory its group could write
  const db = path.join(dir, 'tock.db');
  return { dir, db, env: isolatedEnv(dir, db) };
}

export interface CliRun {
  status: number | null;
  ms: number;
  stdout: string;
  stderr: string;
}

/** Runs `tock args...` to completion and times it from spawn to exit. */
export function tock(sb: Sandbox, args: string[], timeoutMs = 600_000): CliRun {
  return timed(process.execPath, [BIN, ...args], sb, timeoutMs);
}

export function timed(cmd: string, args: string[], sb: Sandbox, timeoutMs = 600_000): CliRun {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env: sb.env, cwd: sb.dir, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 30 });
  const elapsed = performance.now() - t0;
  return { status: r.status, ms: elapsed, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Like tock(), but fails loudly: for setup steps whose failure makes the figures meaningless. */
export function tockOk(sb: Sandbox, args: string[]): CliRun {
  const r = tock(sb, args);
  if (r.status !== 0) throw new Error(`tock ${args.join(' ')} exited ${r.status}: ${r.stderr.trim().slice(0, 500)}`);
  return r;
}

export interface DaemonOptions {
  concurrency?: number;
  /** Directory for a V8 CPU profile of the daemon (node --cpu-prof), if wanted. */
  profileDir?: string;
  name?: string;
}

export interface DaemonProc {
  pid: number;
  /** Wall-clock instant of the spawn call, ms since the epoch. */
  spawnedAt: number;
  log: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function startDaemon(sb: Sandbox, o: DaemonOptions = {}): DaemonProc {
  const log = path.join(sb.dir, `${o.name ?? 'daemon'}.log`);
  const fd = fs.openSync(log, 'a');
  // TOCK_BENCH_DAEMON_FLAGS: extra node flags for the daemons only (e.g. --trace-gc, whose lines land in the log).
  const extra = (process.env.TOCK_BENCH_DAEMON_FLAGS ?? '').split(' ').filter(Boolean);
  const node = [...extra, ...(o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : [])];
  const args = [...node, BIN, 'daemon', ...(o.concurrency ? ['--concurrency', String(o.concurrency)] : []), '--grace', '10s'];
  const spawnedAt = wallNow();
  const child = spawn(process.execPath, args, { env: sb.env, cwd: sb.dir, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  return { pid: child.pid!, spawnedAt, log, child, stop: () => stopChild(child) };
}

export interface LogLine {
  at: number;
  event: string;
  text: string;
}

/** The daemon's log: `<ISO instant> <event> <text>` per line. */
export function readLog(file: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\S+) (\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const at = Date.parse(m[1]);
    if (!Number.isNaN(at)) out.push({ at, event: m[2], text: m[3] });
  }
  return out;
}

/** Waits until the log has a line of this event (or the process died, or time ran out). */
export async function waitForLog(d: DaemonProc, event: string, timeoutMs: number): Promise<LogLine> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const hit = readLog(d.log).find((l) => l.event === event);
    if (hit) return hit;
    if (d.child.exitCode !== null) throw new Error(`the daemon exited (${d.child.exitCode}); see ${d.log}`);
    if (Date.now() > until) throw new Error(`no "${event}" line in ${d.log} after ${timeoutMs} ms`);
    await sleep(20);
  }
}

export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Writes a jobs file. Each job is one JSON object on its own line: JSON is YAML's flow
 * style, so the file is valid YAML and 100,000 jobs take a moment, not minutes.
 */
export function writeJobsFile(file: string, jobs: Record<string, unknown>[], defaults?: Record<string, unknown>): void {
  const lines: string[] = [];
  if (defaults) lines.push(`defaults: ${JSON.stringify(defaults)}`);
  lines.push('jobs:');
  for (const j of jobs) lines.push(`  - ${JSON.stringify(j)}`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

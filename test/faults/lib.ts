// The fault suite's harness: a sandbox per scenario (its own temp dir and store), the real
// CLI and daemon run as processes, every process a scenario starts tagged through its
// environment so that all of them (targets orphaned by a kill -9 included) are found and
// killed when the scenario ends, and the rows of the final table.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, ROOT, isolatedEnv } from '../helpers/store-env.js';

export { BIN, ROOT, storeChecksum } from '../helpers/store-env.js';
export const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
const TAG_VAR = 'TOCK_FAULTS_TAG';

export type Verdict = 'PASS' | 'FAIL' | 'SKIP';

export interface Row {
  scenario: string;
  case: string;
  tried: string;
  found: string;
  verdict: Verdict;
}

export interface Ctx {
  short: boolean;
  rng: Rng;
  seed: number;
  keep: boolean;
  /** Progress for the person watching (stderr). */
  note(text: string): void;
}

export type Scenario = (ctx: Ctx) => Promise<Row[]>;

// ---- randomness ------------------------------------------------------------------------

/** A seeded PRNG (mulberry32), so a run is reproducible with --seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  fork(): Rng {
    return new Rng(Math.floor(this.next() * 2 ** 32));
  }
}

// ---- time ------------------------------------------------------------------------------

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
export const iso = (ms: number) => new Date(ms).toISOString();

export async function waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, everyMs = 200): Promise<T | undefined> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) return undefined;
    await sleep(everyMs);
  }
}

// ---- processes -------------------------------------------------------------------------

export interface CliResult {
  args: string[];
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** One `tock:` line on stderr, no stack trace, no internal error: how every failure must look. */
export function cleanError(r: CliResult): string | undefined {
  const err = r.stderr.replace(/\n$/, '');
  if (r.timedOut) return `hung (killed after ${r.ms} ms)`;
  if (r.signal) return `killed by ${r.signal}`;
  if (err === '') return 'no message on stderr';
  if (err.includes('\n')) return `${err.split('\n').length} lines on stderr`;
  if (!err.startsWith('tock: ')) return 'stderr does not start with "tock: "';
  if (/^\s+at /m.test(r.stderr) || /\((?:file:\/\/|node:)[^)]*:\d+:\d+\)/.test(r.stderr)) return 'stack trace';
  if (/internal error/i.test(err)) return 'internal error';
  return undefined;
}

export function describeCli(r: CliResult): string {
  const args = r.args.map((a) => (a.length > 60 ? `${a.slice(0, 57)}...` : a)).map((a) => JSON.stringify(a)).join(' ');
  return `tock ${args} -> ${r.timedOut ? 'timeout' : (r.status ?? r.signal)}: ${oneLine(r.stderr).slice(0, 200)}`;
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' | ').trim();
}

/** Kills every process carrying this tag (or a tag under it) in its environment. */
export function killTagged(tag: string): number {
  let killed = 0;
  for (let round = 0; round < 10; round++) {
    const pids = taggedPids(tag);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        // already gone
      }
    }
    spawnSync('sleep', ['0.05']);
  }
  return killed;
}

export function taggedPids(tag: string): number[] {
  const out: number[] = [];
  const mark = `${TAG_VAR}=${tag}`;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let env: string;
    try {
      env = fs.readFileSync(`/proc/${entry}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (env.split('\0').some((v) => v === mark || v.startsWith(`${mark}/`))) {
      if (processState(Number(entry)) !== 'Z') out.push(Number(entry));
    }
  }
  return out;
}

export function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2)[0];
  } catch {
    return undefined;
  }
}

export function pidAlive(pid: number): boolean {
  const s = processState(pid);
  return s !== undefined && s !== 'Z' && s !== 'X';
}

/** Resident memory of a process in bytes (VmRSS), or undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

// ---- sandbox ---------------------------------------------------------------------------

const liveSandboxes = new Set<Sandbox>();

export class Sandbox {
  readonly dir: string;
  readonly db: string;
  readonly tag: string;
  readonly env: NodeJS.ProcessEnv;
  private readonly mounts: string[] = [];
  private daemons = 0;
  /** A command prefix for every tock process (setpriv, after runAsNobody). */
  wrap: string[] = [];
  /** The program every tock process runs: the checkout's, or a copy nobody can read (runAsNobody). */
  bin = BIN;

  constructor(readonly name: string, storeSubdir?: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `tock-faults-${name}-`));
    const storeDir = storeSubdir ? path.join(this.dir, storeSubdir) : this.dir;
    // 0700 whatever the umask: tock refuses a store directory its group could write.
    fs.mkdirSync(storeDir, { recursive: true, mode: 0o700 });
    this.db = path.join(storeDir, 'tock.db');
    this.tag = `${RUN_ID}/${name}`;
    this.env = isolatedEnv(this.dir, this.db, { LANG: 'C.UTF-8', [TAG_VAR]: this.tag });
    liveSandboxes.add(this);
  }

  path(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }

  /** Runs the real CLI and waits for it; a run past timeoutMs is SIGKILLed and reported as hung. */
  tock(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
    const started = Date.now();
    return new Promise((resolve) => {
      const [cmd, ...pre] = [...this.wrap, process.execPath];
      const child = spawn(cmd!, [...pre, this.bin, ...args], {
        env: { ...this.env, ...opts.env },
        cwd: this.dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout.on('data', (d) => (stdout.length < 64 * 1024 * 1024 ? (stdout += d) : undefined));
      child.stderr.on('data', (d) => (stderr.length < 1024 * 1024 ? (stderr += d) : undefined));
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, opts.timeoutMs ?? 30_000);
      child.on('close', (status, signal) => {
        clearTimeout(timer);
        resolve({ args, status, signal, stdout, stderr, ms: Date.now() - started, timedOut });
      });
    });
  }

  /** Like tock(), failing the scenario (by throwing) unless the command exits 0. */
  async ok(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
    const r = await this.tock(args, opts);
    if (r.status !== 0) throw new Error(`setup command failed: ${describeCli(r)}`);
    return r;
  }

  daemon(args: string[] = [], env: NodeJS.ProcessEnv = {}): DaemonProc {
    return new DaemonProc(this, ['daemon', ...args], { ...this.env, ...env }, this.path(`daemon-${++this.daemons}.log`));
  }

  /**
   * Runs every later tock process as nobody (permission bits do not stop root), and gives
   * the sandbox to nobody. They run a copy of the program kept in the sandbox: the checkout
   * may sit under a directory nobody cannot enter (a clone in root's 0700 home).
   */
  runAsNobody(): void {
    this.bin = copyProgram(this.path('program'));
    run('chown', ['-R', 'nobody:', this.dir]);
    this.wrap = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
  }

  /** The store's history through the CLI, as a user sees it. */
  async history(extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<HistoryOcc[]> {
    const r = await this.tock(['history', '--json', '--limit', '1000000', ...extra], { env, timeoutMs: 60_000 });
    if (r.status !== 0) throw new Error(`history failed: ${describeCli(r)}`);
    return JSON.parse(r.stdout) as HistoryOcc[];
  }

  mount(args: string[], target: string): void {
    run('mount', [...args, target]);
    this.mounts.push(target);
  }

  cleanup(keep = false): void {
    killTagged(this.tag);
    for (const m of this.mounts.reverse()) spawnSync('umount', ['-l', m]);
    this.mounts.length = 0;
    if (!keep) fs.rmSync(this.dir, { recursive: true, force: true });
    liveSandboxes.delete(this);
  }
}

/** Files of a package that nothing loads at run time: sources, build leftovers, docs, maps, types. */
const NOT_LOADED = /\.(c|cc|cpp|h|hpp|o|a|md|map|ts)$/;

/**
 * Copies what `bin/tock.js` loads into `dir` (the script, the bundle, and the packages of
 * package.json's dependencies with theirs) and returns the copy's bin/tock.js. Leaving out
 * what is never loaded (better-sqlite3's SQLite sources and objects) keeps it to about 5 MB,
 * not 35 MB of writes to the disk whose syncs the scenarios are timing.
 */
function copyProgram(dir: string): string {
  fs.cpSync(path.join(ROOT, 'bin'), path.join(dir, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'dist'));
  fs.copyFileSync(path.join(ROOT, 'dist', 'tock.cjs'), path.join(dir, 'dist', 'tock.cjs'));
  for (const name of runtimePackages(ROOT, new Set())) {
    const filter = (src: string) => !NOT_LOADED.test(src);
    fs.cpSync(path.join(ROOT, 'node_modules', name), path.join(dir, 'node_modules', name), { recursive: true, filter });
  }
  return path.join(dir, 'bin', 'tock.js');
}

/** The dependencies of the package in pkgDir, transitively, as npm hoists them to node_modules/. */
function runtimePackages(pkgDir: string, seen: Set<string>): Set<string> {
  const deps = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).dependencies ?? {};
  for (const name of Object.keys(deps)) {
    const hoisted = path.join(ROOT, 'node_modules', name);
    // One not hoisted lives in its dependant's own node_modules/, copied with it.
    if (seen.has(name) || !fs.existsSync(hoisted)) continue;
    seen.add(name);
    runtimePackages(hoisted, seen);
  }
  return seen;
}

/** Last resort (SIGINT, an exception): kill every process of this run and undo mounts. */
export function cleanupAll(): void {
  for (const sb of [...liveSandboxes]) sb.cleanup(true);
  killTagged(RUN_ID);
}

export function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message || `exit ${r.status}`}`.trim());
  return r.stdout;
}

export class DaemonProc {
  readonly child: ChildProcess;
  output = '';
  exit: { code: number | null; signal: string | null } | undefined;
  readonly exited: Promise<void>;
  /** Set when this suite killed it on purpose. */
  killedByUs = false;
  readonly startedAt = Date.now();

  constructor(sb: Sandbox, args: string[], env: NodeJS.ProcessEnv, readonly logFile: string) {
    const [cmd, ...pre] = [...sb.wrap, process.execPath];
    this.child = spawn(cmd!, [...pre, sb.bin, ...args], { env, cwd: sb.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = fs.openSync(logFile, 'a');
    const take = (d: Buffer) => {
      this.output += d.toString();
      fs.writeSync(log, d);
    };
    this.child.stdout!.on('data', take);
    this.child.stderr!.on('data', take);
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal };
        fs.closeSync(log);
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  lines(event?: string): string[] {
    const all = this.output.split('\n').filter(Boolean);
    return event ? all.filter((l) => l.split(/\s+/)[1] === event) : all;
  }

  async kill9(): Promise<void> {
    this.killedByUs = true;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not stopped within graceMs. Returns its exit code. */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (!this.alive) return this.exit!.code;
    this.killedByUs = true;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
    return this.exit!.code;
  }

  /** Waits until the daemon has written its first `started` line (or died). */
  async ready(timeoutMs = 15_000): Promise<boolean> {
    return Boolean(await waitFor(() => !this.alive || this.lines('started').length > 0, timeoutMs, 50)) && this.alive;
  }
}

// ---- what targets and the store report -------------------------------------------------

import type { HistoryOcc } from '../helpers/store-env.js';
export type { HistoryAttempt, HistoryOcc } from '../helpers/store-env.js';

/** Lines a target appended to a file (`echo "S $TOCK_IDEMPOTENCY_KEY ..." >> file`), split into words. */
export function records(file: string): string[][] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '));
}

/** The instant a key names: keys are `<job>@<ISO instant>`. */
export function instantOfKey(key: string): number {
  return Date.parse(key.slice(key.lastIndexOf('@') + 1));
}

export function countBy<T>(items: T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
}

/** Whole seconds in [from, to], as ms. */
export function seconds(from: number, to: number, step = 1000): number[] {
  const out: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) out.push(t);
  return out;
}

/** Runs `fn` over `items` with at most `n` at once. */
export async function pool<T>(items: T[], n: number, fn: (item: T, worker: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async (_, w) => {
      while (next < items.length) await fn(items[next++]!, w);
    }),
  );
}

// ---- libfaketime -----------------------------------------------------------------------

const FAKETIME_PATHS = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
  '/usr/local/lib/faketime/libfaketime.so.1',
];

const aptTried = new Map<string, boolean>();

/** Installs a Debian package when we are root with apt-get; returns whether it went in. */
export function aptInstall(pkg: string, note: (s: string) => void): boolean {
  if (aptTried.has(pkg)) return aptTried.get(pkg)!;
  let ok = false;
  if (process.getuid?.() === 0 && spawnSync('which', ['apt-get']).status === 0) {
    note(`installing ${pkg} (apt-get install -y ${pkg})`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    ok = spawnSync('apt-get', ['install', '-y', '-q', pkg], { env, timeout: 120_000 }).status === 0;
    if (!ok) {
      spawnSync('apt-get', ['update', '-q'], { env, timeout: 180_000 });
      ok = spawnSync('apt-get', ['install', '-y', '-q', pkg], { env, timeout: 120_000 }).status === 0;
    }
  }
  aptTried.set(pkg, ok);
  return ok;
}

export function which(binary: string): string | undefined {
  const r = spawnSync('which', [binary], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** A tool the suite needs, installed from Debian if missing; undefined (and a reason) if not available. */
export function tool(binary: string, pkg: string, note: (s: string) => void): { path?: string; why?: string } {
  let found = which(binary);
  if (!found && aptInstall(pkg, note)) found = which(binary);
  return found ? { path: found } : { why: `${binary} is not installed and apt-get install ${pkg} did not work` };
}

/**
 * Installs what the named scenarios need before any of them starts. apt-get runs
 * synchronously (up to minutes on a fresh machine): run inside a lane, it froze this
 * process's event loop, and with it the HTTP servers another lane's scenario was serving
 * its daemon from, so those targets stalled past their deadlines. Results are cached, so
 * the scenarios' own calls later only look.
 */
export function prepareTools(scenarios: string[], note: (s: string) => void): void {
  if (scenarios.includes('clock')) faketime(note);
  if (scenarios.includes('durability')) tool('strace', 'strace', note);
}

/** libfaketime's path; installs Debian's package when missing and we are root with apt. */
export function faketime(note: (s: string) => void): { lib?: string; why?: string } {
  let lib = FAKETIME_PATHS.find((p) => fs.existsSync(p));
  if (!lib && aptInstall('faketime', note)) lib = FAKETIME_PATHS.find((p) => fs.existsSync(p));
  return lib ? { lib } : { why: 'libfaketime is not installed and apt-get install faketime did not work' };
}

/**
 * The environment that puts a process on a shared fake clock: the wall clock is the real one
 * plus the offset written in `file` (re-read on every call), the monotonic clock stays real.
 */
export function fakeClockEnv(lib: string, file: string): NodeJS.ProcessEnv {
  return {
    LD_PRELOAD: lib,
    FAKETIME_TIMESTAMP_FILE: file,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}

export function setFakeOffset(file: string, seconds: number): void {
  fs.writeFileSync(`${file}.tmp`, `${seconds >= 0 ? '+' : ''}${Math.round(seconds)}\n`);
  fs.renameSync(`${file}.tmp`, file);
}

// ---- the table -------------------------------------------------------------------------

/** A Markdown table, padded so it also reads well in a terminal. */
export function table(rows: Row[]): string {
  const head = ['scenario', 'case', 'tried', 'found', 'verdict'];
  const cells = rows.map((r) => [r.scenario, r.case, r.tried, r.found, r.verdict].map((c) => c.replace(/\|/g, '\\|')));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

export function row(scenario: string, kase: string, tried: string, found: string, ok: boolean | 'skip'): Row {
  return { scenario, case: kase, tried, found, verdict: ok === 'skip' ? 'SKIP' : ok ? 'PASS' : 'FAIL' };
}

/** Runs one part of a scenario, turning an exception into a FAIL row instead of losing the others. */
export async function guarded(scenario: string, kase: string, fn: () => Promise<Row[]>): Promise<Row[]> {
  try {
    return await fn();
  } catch (err) {
    return [row(scenario, kase, '-', `harness error: ${oneLine((err as Error).stack ?? String(err)).slice(0, 400)}`, false)];
  }
}

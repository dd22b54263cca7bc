// Power-loss durability of claims: a claim must be on disk before its target begins. Shown
// three ways: the pragmas the product's own open() sets (WAL, synchronous=FULL); a syscall
// trace of a running daemon (every target's execve comes after an fsync of the WAL that
// follows the last WAL write); and snapshots of the store files taken by targets at the
// moment they start, each of which must already hold that target's claim.

import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { Connection as Store } from '../../src/store/sqlite/connection.js';
import { BIN, Sandbox, iso, row, sleep, tool, waitFor, type Ctx, type Row } from './lib.js';

const S = 'durability';

export async function durability(ctx: Ctx): Promise<Row[]> {
  const rows: Row[] = [];
  rows.push(pragmas());
  rows.push(await traced(ctx));
  rows.push(await snapshots(ctx));
  return rows;
}

/** The pragmas of a connection opened by the product's own code, as the daemon opens it. */
function pragmas(): Row {
  const sb = new Sandbox(`${S}-pragmas`);
  try {
    const store = Store.open(sb.db, { busyTimeoutMs: 5_000 });
    const journal = String(store.db.pragma('journal_mode', { simple: true }));
    const sync = Number(store.db.pragma('synchronous', { simple: true }));
    const busy = Number(store.db.pragma('busy_timeout', { simple: true }));
    store.close();
    const ok = journal === 'wal' && sync >= 2;
    const syncName = ['OFF', 'NORMAL', 'FULL', 'EXTRA'][sync] ?? String(sync);
    return row(S, 'store settings', 'Store.open() as the daemon and CLI call it', `journal_mode=${journal}, synchronous=${syncName}, busy_timeout=${busy} ms`, ok);
  } finally {
    sb.cleanup();
  }
}

/** strace of a daemon: for each target, was the WAL fsynced after its last write and before the execve? */
async function traced(ctx: Ctx): Promise<Row> {
  const strace = tool('strace', 'strace', ctx.note);
  const tried = 'strace -f of a daemon firing 3 jobs (one per semantics) every second';
  if (!strace.path) return row(S, 'fsync before target (strace)', tried, strace.why!, 'skip');
  const sb = new Sandbox(`${S}-strace`);
  let ok = false;
  try {
    const trace = sb.path('trace.txt');
    const child = spawn(strace.path, ['-f', '--seccomp-bpf', '-qq', '-s', '200', '-e', 'trace=openat,pwrite64,write,fdatasync,fsync,execve', '-o', trace, process.execPath, BIN, 'daemon'], {
      env: sb.env,
      cwd: sb.dir,
      stdio: 'ignore',
    });
    const closed = new Promise((r) => child.once('close', r));
    // strace writes its file in blocks: wait through the store (not the trace) for the daemon
    // to be up and for its work to be done, then stop the daemon so that strace flushes and exits.
    const daemonPid = await waitFor(async () => {
      const r = await sb.tock(['status', '--json']);
      return r.status === 0 ? (JSON.parse(r.stdout).daemons[0]?.pid as number | undefined) : undefined;
    }, 60_000, 500);
    if (!daemonPid) throw new Error('the traced daemon did not start within 60 s');
    // `--catchup all` here and below: adds slower than the 3 s lead on a loaded machine must
    // not turn the first instants into skipped ones; every instant is to be traced.
    const t0 = Math.ceil((Date.now() + 3_000) / 1000) * 1000;
    const n = ctx.short ? 4 : 10;
    for (const d of ['at-most-once', 'at-least-once', 'exactly-once']) {
      await sb.ok(['add', `j-${d}`, '--cron', '* * * * * *', '--start', iso(t0), '--end', iso(t0 + (n - 1) * 1000),
        '--shell', `echo TRACED-TARGET $TOCK_IDEMPOTENCY_KEY`, '--delivery', d, '--overlap', 'allow', '--catchup', 'all']);
    }
    const expected = 3 * n;
    await waitFor(async () => {
      const r = await sb.tock(['status', '--json']);
      return r.status === 0 && JSON.parse(r.stdout).occurrences.succeeded >= expected;
    }, t0 + n * 1000 + 30_000 - Date.now(), 500);
    process.kill(daemonPid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 30_000)))]);
    clearTimeout(timer);
    if (!stopped) child.kill('SIGKILL');
    const result = analyseTrace(fs.readFileSync(trace, 'utf8'), sb.db);
    ok = result.targets >= expected && result.syncs > 0 && result.unsynced.length === 0;
    const found =
      `${result.targets} target execve(s); ${result.targets - result.unsynced.length} preceded by fsync/fdatasync of the WAL after its last write; ` +
      `${result.unsynced.length} not` + (result.unsynced.length ? ` (e.g. ${result.unsynced[0]})` : '') + `; ${result.syncs} WAL syncs in all`;
    return row(S, 'fsync before target (strace)', tried, found, ok);
  } finally {
    sb.cleanup(ctx.keep || !ok);
  }
}

export function analyseTrace(text: string, db: string): { targets: number; unsynced: string[]; syncs: number } {
  const walFds = new Set<string>();
  let dirty = false; // a WAL write not yet followed by a sync
  let targets = 0;
  let syncs = 0;
  const unsynced: string[] = [];
  const pending = new Map<string, string>(); // pid -> a call strace printed as <unfinished ...>
  for (const raw of text.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(raw); // strace pads short pids
    if (!m) continue;
    const [, pid, rest] = m as unknown as [string, string, string];
    // A target's start counts from the moment its execve begins.
    if (/^execve\("\/bin\/sh", \["\/bin\/sh", "-c", "echo TRACED-TARGET/.test(rest)) {
      targets++;
      if (dirty) unsynced.push(raw.slice(0, 120));
    }
    let call = rest;
    if (call.endsWith('<unfinished ...>')) {
      pending.set(pid, call.slice(0, -'<unfinished ...>'.length));
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(call);
    if (resumed) {
      call = (pending.get(pid) ?? '') + resumed[1];
      pending.delete(pid);
    }
    // Writes and syncs count once they have returned.
    const open = /^openat\(.*"(.*)".* = (\d+)$/.exec(call);
    if (open && open[1] === `${db}-wal`) walFds.add(open[2]!);
    const write = /^(?:pwrite64|write)\((\d+),/.exec(call);
    if (write && walFds.has(write[1]!)) dirty = true;
    const sync = /^f(?:data)?sync\((\d+)\)\s+= 0/.exec(call);
    if (sync && walFds.has(sync[1]!)) {
      dirty = false;
      syncs++;
    }
  }
  return { targets, unsynced, syncs };
}

/** Targets copy the store files the moment they start; each copy must hold the claim being executed. */
async function snapshots(ctx: Ctx): Promise<Row> {
  const sb = new Sandbox(`${S}-snap`);
  let ok = false;
  try {
    const snap = sb.path('snap');
    fs.mkdirSync(snap);
    const copy =
      `d=${snap}/$TOCK_OCCURRENCE_ID-$TOCK_ATTEMPT; mkdir $d && cp ${sb.db} $d/tock.db && ` +
      `{ cp ${sb.db}-wal $d/tock.db-wal 2>/dev/null; true; } && echo "$TOCK_IDEMPOTENCY_KEY" > $d/key`;
    const t0 = Math.ceil((Date.now() + 3_000) / 1000) * 1000;
    const n = ctx.short ? 6 : 20;
    const end = iso(t0 + (n - 1) * 2000);
    for (const d of ['at-most-once', 'at-least-once', 'exactly-once']) {
      await sb.ok(['add', `j-${d}`, '--cron', '*/2 * * * * *', '--start', iso(t0), '--end', end, '--shell', copy, '--delivery', d, '--catchup', 'all']);
    }
    // A retry (attempt 2 is started by its own transaction) and a manual run (claimed by the CLI).
    await sb.ok(['add', 'retrying', '--cron', '*/2 * * * * *', '--start', iso(t0), '--end', end,
      '--shell', `${copy}; [ "$TOCK_ATTEMPT" -gt 1 ]`, '--backoff', '100ms:200ms', '--catchup', 'all']);
    await sb.ok(['add', 'manual', '--every', '1h', '--shell', copy]);
    const d = sb.daemon();
    for (let i = 0; i < 3; i++) await sb.ok(['run', 'manual']);
    await sleep(t0 + (n - 1) * 2000 - Date.now() + 3_000);
    await d.stop();

    let held = 0;
    const missing: string[] = [];
    const dirs = fs.readdirSync(snap);
    for (const dir of dirs) {
      const [id, n] = dir.split('-').map(Number);
      const key = fs.readFileSync(path.join(snap, dir, 'key'), 'utf8').trim();
      const state = claimIn(path.join(snap, dir), key, n!);
      if (state === 'running') held++;
      else missing.push(`#${id} attempt ${n}: ${state}`);
    }
    const attempts2 = dirs.filter((x) => x.endsWith('-2')).length;
    ok = dirs.length >= 4 * n + 3 && missing.length === 0 && attempts2 > 0;
    return row(
      S,
      'store copied as targets start',
      `${dirs.length} copies of tock.db + WAL taken by targets at start (3 semantics, ${attempts2} retries, 3 manual runs)`,
      `${held} held the claim (occurrence running, its attempt open); ${missing.length} did not` + (missing.length ? ` (${missing.slice(0, 2).join('; ')})` : ''),
      ok,
    );
  } finally {
    sb.cleanup(ctx.keep || !ok);
  }
}

/** Opens a copy of a snapshot as SQLite would after a power cut, and reads the claim from it. */
function claimIn(dir: string, key: string, attempt: number): string {
  const work = fs.mkdtempSync(path.join(dir, 'open-'));
  for (const f of ['tock.db', 'tock.db-wal']) if (fs.existsSync(path.join(dir, f))) fs.copyFileSync(path.join(dir, f), path.join(work, f));
  const db = new Database(path.join(work, 'tock.db'));
  try {
    const occ = db.prepare('SELECT id, state, attempts FROM occurrences WHERE idempotency_key = ?').get(key) as
      | { id: number; state: string; attempts: number }
      | undefined;
    if (!occ) return 'no claim in the copy';
    const a = db.prepare('SELECT outcome FROM attempts WHERE occurrence_id = ? AND n = ?').get(occ.id, attempt) as { outcome: string } | undefined;
    if (occ.state !== 'running' || occ.attempts !== attempt || a?.outcome !== 'running') {
      return `state ${occ.state}, attempts ${occ.attempts}, attempt ${attempt} ${a?.outcome ?? 'absent'}`;
    }
    return 'running';
  } catch (err) {
    return `unreadable copy: ${(err as Error).message}`;
  } finally {
    db.close();
  }
}

// Store trouble while a daemon runs: the store's directory made read-only (permissions,
// with daemon and CLI running as an unprivileged user, since root ignores them), the file
// system holding it turning read-only (ext4 on a loop device, errors=remount-ro, as after a
// disk error), the disk filling up (a small tmpfs), and the store locked by another process
// for longer than busy_timeout (a held write transaction; an exclusive lock that also
// blocks readers). The daemon must log a clear error, keep running, lose nothing and resume;
// CLI commands must fail with one clear `tock:` line.

import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  ROOT,
  Sandbox,
  cleanError,
  countBy,
  describeCli,
  iso,
  records,
  row,
  run,
  seconds,
  sleep,
  waitFor,
  type CliResult,
  type Ctx,
  type DaemonProc,
  type Row,
} from './lib.js';

const S = 'store';

interface Trouble {
  id: string;
  label: string;
  tried: string;
  /** Run daemon and CLI as nobody (permission bits do not stop root). */
  unprivileged?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Why this case cannot run here, if it cannot. */
  unavailable?(): string | undefined;
  setup?(sb: Sandbox, storeDir: string): void;
  on(sb: Sandbox, storeDir: string, ms: number): Promise<void>;
  /** Ends the trouble; may replace the daemon (returns the new one). */
  off(sb: Sandbox, storeDir: string, d: DaemonProc): Promise<DaemonProc | void>;
  /** The daemon is expected to log errors (a read-only directory does not touch its open files). */
  daemonErrors: boolean;
  /** Words a clear message has. */
  words: RegExp;
  /**
   * What a daemon started during the trouble must do: wait it out and start when it ends
   * (trouble that passes: a lock, a full disk), wait until stopped (a file system that must
   * be unmounted to repair, which a waiting daemon would hold open), or exit 2 (trouble that
   * needs the operator: permissions).
   */
  second: 'starts' | 'waits' | 'exits';
}

export async function store(ctx: Ctx): Promise<Row[]> {
  const ms = ctx.short ? 6_000 : 20_000;
  const busyEnv = ctx.short ? { TOCK_BUSY_TIMEOUT_MS: '1000' } : {};
  const busy = ctx.short ? '1 s' : '5 s (default)';
  const troubles: Trouble[] = [readOnlyDir(), readOnlyFs(), diskFull(), locked(busyEnv, busy)];
  const rows = await Promise.all(troubles.map((t) => withTrouble(ctx, t, ms)));
  return rows;
}

async function withTrouble(ctx: Ctx, t: Trouble, troubleMs: number): Promise<Row> {
  const tried = `${t.tried}, for ${troubleMs / 1000}s while a daemon runs 2 jobs (1/s; 1/3s taking 2 s) and the CLI is used`;
  const why = t.unavailable?.();
  if (why) return row(S, t.label, tried, why, 'skip');
  const sb = new Sandbox(`${S}-${t.id}`, 'store');
  const storeDir = path.dirname(sb.db);
  let ok = false;
  try {
    Object.assign(sb.env, t.env);
    try {
      t.setup?.(sb, storeDir);
    } catch (err) {
      ok = true; // nothing ran: keep no sandbox
      return row(S, t.label, tried, `cannot set up here (${(err as Error).message.split('\n')[0]}); needs root and mount`, 'skip');
    }
    if (t.unprivileged) sb.runAsNobody();
    const log = sb.path('executions.log');
    const rec = `echo "$TOCK_IDEMPOTENCY_KEY" >> ${log}`;
    const t0 = Math.ceil((Date.now() + 3_000) / 1000) * 1000;
    const tEnd = t0 + troubleMs + 10_000;
    const common = ['--start', iso(t0), '--end', iso(tEnd), '--overlap', 'allow', '--catchup', 'all'];
    await sb.ok(['add', 'tick', '--cron', '* * * * * *', '--shell', rec, ...common]);
    await sb.ok(['add', 'slow', '--cron', '*/3 * * * * *', '--shell', `sleep 2; ${rec}`, ...common]);
    let d = sb.daemon();
    const daemons = [d];
    // The trouble must find this daemon running: on a loaded machine its start (more so as
    // nobody, from a copied program) can take longer than the lead before t0.
    if (!(await d.ready(30_000))) throw new Error(`the daemon did not start: ${d.output.trim().split('\n').pop()}`);
    await sleep(t0 + 3_000 - Date.now());

    const onAt = Date.now();
    await t.on(sb, storeDir, troubleMs);
    const during: CliResult[] = [];
    let second: DaemonProc | undefined;
    for (let i = 0; Date.now() < onAt + troubleMs; i++) {
      if (i === 0) {
        // A daemon started while the trouble lasts, before the CLI probes: each may wait out
        // the busy timeout, and on a loaded machine a second daemon started after them met
        // a lock already released and had nothing to report.
        second = sb.daemon();
        daemons.push(second);
      }
      for (const args of [['add', `probe-${i}`, '--every', '1h', '--shell', 'true'], ['list'], ['history', '--limit', '5'], ['status']]) {
        during.push(await sb.tock(args, { timeoutMs: 60_000 }));
      }
    }
    await sleep(onAt + troubleMs - Date.now());
    const aliveThrough = d.alive;
    const errorsDuring = d.lines('error');
    const secondErrors = second?.lines('error').length ?? 0;
    let secondState = !second
      ? '-'
      : second.alive
        ? `waiting (${secondErrors} error lines, e.g. "${second.lines('error')[0]?.slice(25, 110) ?? ''}")`
        : `exited ${second.exit?.code}: ${second.output.trim().split('\n').pop()?.slice(0, 140)}`;
    let secondOk = second !== undefined && (t.second === 'exits' ? second.exit?.code === 2 : second.alive && secondErrors > 0);
    if (second?.alive && t.second === 'waits') {
      const code = await second.stop();
      secondState += `, SIGTERM exit ${code}`;
      secondOk &&= code === 0;
    }
    const replaced = await t.off(sb, storeDir, d);
    if (replaced) {
      d = replaced;
      daemons.push(d);
    }
    const offAt = Date.now();
    if (second && t.second === 'starts') {
      const started = secondOk && (await second.ready(20_000));
      secondState += started ? `, started ${((Date.now() - offAt) / 1000).toFixed(1)}s after the trouble ended` : ', NEVER started';
      secondOk &&= started;
      // Stopped again at once: left running it could take all the work, and what is checked
      // below is that the daemon that lived through the trouble resumes.
      const code = await second.stop();
      secondState += `, SIGTERM exit ${code}`;
      secondOk &&= code === 0;
    }
    const after = await sb.tock(['add', 'after', '--every', '1h', '--shell', 'true'], { timeoutMs: 60_000 });

    const expected = seconds(t0, tEnd).length + seconds(t0, tEnd, 3000).length;
    await waitFor(() => new Set(records(log).map((l) => l[0])).size >= expected, tEnd - Date.now() + 45_000, 500);
    await sleep(500);
    const resumedAt = firstWorkAfter(d, offAt);
    const history = await sb.history();
    const stillAlive = d.alive;
    const stopCode = await d.stop();
    if (second?.alive) {
      const code = await second.stop();
      secondOk &&= code === 0;
    }

    const execs = countBy(records(log), (l) => l[0]!);
    const keys = [...seconds(t0, tEnd).map((x) => `tick@${iso(x)}`), ...seconds(t0, tEnd, 3000).map((x) => `slow@${iso(x)}`)];
    const lost = keys.filter((k) => !execs.get(k) || history.find((o) => o.idempotency_key === k)?.state !== 'succeeded');
    const dups = keys.filter((k) => (execs.get(k) ?? 0) > 1).length;
    const failedCli = during.filter((r) => r.status !== 0);
    const unclean = failedCli.filter((r) => cleanError(r) !== undefined);
    const unclear = failedCli.filter((r) => !t.words.test(r.stderr));
    const badLines = errorsDuring.filter((l) => !t.words.test(l));
    const errorText = errorsDuring[0]?.slice(25, 170);
    const unexpectedExit = daemons.some((x) => !x.alive && !x.killedByUs && x !== second);

    ok =
      aliveThrough &&
      stillAlive &&
      !unexpectedExit &&
      lost.length === 0 &&
      unclean.length === 0 &&
      unclear.length === 0 &&
      secondOk &&
      after.status === 0 &&
      (!t.daemonErrors || (errorsDuring.length > 0 && badLines.length === 0)) &&
      resumedAt !== undefined;
    const found = [
      `daemon ${aliveThrough ? 'kept running' : 'DIED'}${replaced ? ' (restarted after, see below)' : ''}, ${errorsDuring.length} error lines` +
        (errorText ? ` (e.g. "${errorText}")` : '') +
        (badLines.length ? `, ${badLines.length} unclear` : ''),
      `CLI during: ${during.length - failedCli.length} ok, ${failedCli.length} failed` +
        (failedCli.length ? ` (e.g. "${failedCli[0]!.stderr.trim().slice(0, 130)}")` : '') +
        (unclean.length ? `; ${unclean.length} not clean: ${describeCli(unclean[0]!)}` : '') +
        (unclear.length && !unclean.length ? `; ${unclear.length} unclear: ${describeCli(unclear[0]!)}` : ''),
      `daemon started during: ${secondState}`,
      `after: add ${after.status === 0 ? 'ok' : `exit ${after.status}`}, work resumed ${resumedAt === undefined ? 'NEVER' : `${((resumedAt - offAt) / 1000).toFixed(1)}s after`}`,
      `occurrences: ${keys.length} scheduled, ${lost.length} lost, ${dups} executed twice`,
      `SIGTERM exit ${stopCode}`,
    ];
    return row(S, t.label, tried, found.join('; '), ok);
  } catch (err) {
    return row(S, t.label, tried, `harness error: ${(err as Error).message}`, false);
  } finally {
    sb.cleanup(ctx.keep || !ok);
  }
}

/** When the daemon next fired or finished something after `at` (its log lines start with an ISO instant). */
function firstWorkAfter(d: DaemonProc, at: number): number | undefined {
  for (const l of d.lines()) {
    const [when, event] = l.split(/\s+/);
    const ms = Date.parse(when!);
    if (ms >= at && (event === 'fired' || event === 'succeeded')) return ms;
  }
  return undefined;
}

// ---- the troubles ------------------------------------------------------------------------

function readOnlyDir(): Trouble {
  return {
    id: 'ro-dir',
    label: 'read-only directory',
    tried: 'chmod a-w on the store directory and files, daemon and CLI running as nobody',
    unprivileged: true,
    unavailable: () => (spawnSync('which', ['setpriv']).status === 0 ? undefined : 'setpriv is not installed (needed to drop root)'),
    async on(_sb, dir) {
      run('chmod', ['0555', dir]);
      for (const f of fs.readdirSync(dir)) run('chmod', ['0444', path.join(dir, f)]);
    },
    async off(_sb, dir) {
      run('chmod', ['0700', dir]);
      for (const f of fs.readdirSync(dir)) run('chmod', ['0600', path.join(dir, f)]);
    },
    daemonErrors: false,
    words: /read-only|readonly|permission/i,
    second: 'exits',
  };
}

function readOnlyFs(): Trouble {
  let image = '';
  let device = '';
  return {
    id: 'ro-fs',
    label: 'read-only file system',
    tried: 'ext4 on a loop device (errors=remount-ro) forced read-only by an fs error; then stop, fsck, remount, restart',
    unavailable: () => (fs.existsSync('/sys/fs/ext4') && spawnSync('which', ['mkfs.ext4']).status === 0 ? undefined : 'no ext4 sysfs or mkfs.ext4 here'),
    setup(sb, dir) {
      image = sb.path('disk.img');
      run('truncate', ['-s', '32M', image]);
      run('mkfs.ext4', ['-q', '-F', image]);
      sb.mount(['-o', 'loop,errors=remount-ro', image], dir);
      device = path.basename(run('findmnt', ['-n', '-o', 'SOURCE', dir]).trim());
    },
    async on() {
      fs.writeFileSync(`/sys/fs/ext4/${device}/trigger_fs_error`, 'tock fault suite\n');
    },
    async off(sb, dir, d) {
      // The file system cannot be made writable under open files: an operator stops the
      // daemon, repairs and remounts, and starts it again. Nothing may be lost in between.
      await d.stop();
      run('umount', [dir]);
      spawnSync('e2fsck', ['-f', '-y', image]);
      run('mount', ['-o', 'loop,errors=remount-ro', image, dir]);
      const next = sb.daemon();
      await next.ready();
      return next;
    },
    daemonErrors: true,
    words: /read-only|readonly/i,
    second: 'waits',
  };
}

function diskFull(): Trouble {
  return {
    id: 'full',
    label: 'disk full',
    tried: 'store on an 8 MiB tmpfs, filled up by another file, then the file removed',
    setup(sb, dir) {
      sb.mount(['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs'], dir);
    },
    async on(_sb, dir) {
      const fd = fs.openSync(path.join(dir, 'filler'), 'w');
      const chunk = Buffer.alloc(64 * 1024);
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        fs.closeSync(fd);
      }
    },
    async off(_sb, dir) {
      fs.rmSync(path.join(dir, 'filler'));
    },
    daemonErrors: true,
    words: /full/i,
    second: 'starts',
  };
}

function locked(env: NodeJS.ProcessEnv, busy: string): Trouble {
  // (An exclusive lock that also blocks readers cannot be taken while a daemon has the WAL
  // store open: SQLite refuses it with SQLITE_BUSY, so a held write transaction is the worst
  // another process can do to a running daemon.)
  let holder: ChildProcess | undefined;
  let closed: Promise<unknown> = Promise.resolve();
  return {
    id: 'locked',
    label: 'store locked',
    tried: `another process holds a write transaction (BEGIN IMMEDIATE) longer than busy_timeout ${busy}`,
    env,
    async on(sb, _dir, ms) {
      const script = sb.path('hold.cjs');
      fs.writeFileSync(
        script,
        `const Database = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'better-sqlite3'))});
const db = new Database(process.argv[2], { timeout: 30000 });
db.exec('BEGIN IMMEDIATE');
db.exec("UPDATE meta SET value = value WHERE key = 'jobs_generation'");
process.stdout.write('locked\\n');
setTimeout(() => { db.exec('COMMIT'); db.close(); }, Number(process.argv[3]));
`,
      );
      holder = spawn(process.execPath, [script, sb.db, String(ms)], { env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      holder.stderr!.on('data', (d) => (err += d));
      closed = new Promise((r) => holder!.once('close', r));
      const got = await Promise.race([new Promise<boolean>((r) => holder!.stdout!.once('data', () => r(true))), closed.then(() => false)]);
      if (!got) throw new Error(`the lock holder could not lock the store: ${err.trim().split('\\n')[0]}`);
    },
    async off() {
      await closed;
    },
    daemonErrors: true,
    words: /locked/i,
    second: 'starts',
  };
}

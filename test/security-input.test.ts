// Input a security review found accepted or recorded wrongly (issue 13, items 7, 10, 12):
// an `every` below one second, a manual key that takes a scheduled firing's place, and an
// attempt recorded as started when it was due rather than when its target started. Real
// CLI processes, real daemons and a real SQLite store per test; the store is locked from
// this process to hold a runner up, and the assertions order instants, they time nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  exited,
  isCleanError,
  storeChecksum,
  tock,
  tockAsync,
  tockSpawn,
  waitFor,
  withSandbox,
  writeFile,
  type Sandbox,
} from './helpers/cli.js';
import type { HistoryOcc } from './helpers/store-env.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const iso = (t: number) => new Date(t).toISOString();
/** A whole second at least `lead` ms from now. */
const wholeSecondAfter = (lead: number) => Math.ceil((Date.now() + lead) / 1000) * 1000;

function ok(sb: Sandbox, args: string[]): string {
  const r = tock(sb, args);
  assert.equal(r.status, 0, `tock ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function history(sb: Sandbox, job: string): HistoryOcc[] {
  const r = tock(sb, ['history', job, '--json', '--limit', '1000']);
  assert.equal(r.status, 0, r.stderr);
  return r.json() as HistoryOcc[];
}

function lines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** A `tock daemon` in the sandbox, once it has said it started; stop() ends it with SIGTERM. */
async function startDaemon(sb: Sandbox) {
  const child = tockSpawn(sb, ['daemon']);
  await waitFor(`daemon ${child.pid} to start`, () => {
    if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}:\n${child.output()}`);
    return / started /.test(child.output());
  });
  return {
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited(child);
    },
  };
}

/** Holds the store's write lock from this process, as a busy writer would, until release(). */
function lockStore(sb: Sandbox) {
  const db = new Database(sb.db);
  db.pragma('busy_timeout = 5000');
  db.exec('BEGIN IMMEDIATE');
  return {
    /** Lets writers in again; returns the instant just before, which every waiting writer follows. */
    release(): number {
      const at = Date.now();
      db.exec('ROLLBACK');
      db.close();
      return at;
    },
  };
}

// ---- item 7: every has a floor of one second ---------------------------------------------

test(
  'every below one second is refused with the floor named, the store unchanged; 1s is accepted',
  withSandbox((sb) => {
    ok(sb, ['add', 'seed', '--every', '1h', '--shell', 'true']);
    const before = storeChecksum(sb.db);
    for (const every of ['1ms', '500ms', '999ms', 'PT0.5S']) {
      const r = tock(sb, ['add', 'fast', '--every', every, '--shell', 'true']);
      assert.equal(r.status, 2, `--every ${every}: ${r.stdout}${r.stderr}`);
      assert.ok(isCleanError(r), r.stderr);
      assert.match(r.stderr, new RegExp(`^tock: --every: "${every}" is shorter than 1s, the minimum for every`), r.stderr);
    }
    const file = writeFile(sb, 'fast.yaml', 'jobs:\n  - name: slow\n    every: 1h\n    shell: "true"\n  - name: fast\n    every: 0.5s\n    shell: "true"\n');
    const r = tock(sb, ['apply', file]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.ok(isCleanError(r), r.stderr);
    assert.match(r.stderr, /jobs\[1\]\.every: "0\.5s" is shorter than 1s, the minimum for every/);
    assert.equal(storeChecksum(sb.db), before, 'a refused every changed the store');

    ok(sb, ['add', 'each-second', '--every', '1s', '--shell', 'true']);
    ok(sb, ['apply', writeFile(sb, 'ok.yaml', 'jobs:\n  - name: from-file\n    every: 1s\n    shell: "true"\n')]);
    const listed = JSON.parse(ok(sb, ['list', '--json'])) as { name: string; schedule: { every_ms?: number } }[];
    for (const name of ['each-second', 'from-file']) {
      assert.equal(listed.find((j) => j.name === name)?.schedule.every_ms, 1000, name);
    }
  }),
);

// ---- item 10: a key given by a person never equals one of tock's ----------------------

test(
  'run refuses a key of the form tock keys firings with, so the daemon still executes that firing; other keys work as before',
  withSandbox(async (sb) => {
    const runs = path.join(sb.dir, 'runs');
    const T = wholeSecondAfter(4_000);
    ok(sb, ['add', 'k', '--every', '1h', '--start', iso(T), '--shell', `echo "$TOCK_IDEMPOTENCY_KEY" >> '${runs}'`]);
    ok(sb, ['add', 'other', '--every', '1h', '--shell', 'true']);
    const scheduledKey = `k@${iso(T)}`;
    const before = storeChecksum(sb.db);
    const reserved = [
      [scheduledKey, 'k'], // the next scheduled firing itself
      [scheduledKey, 'other'], // another job's run taking k's key
      [`k@${iso(T).replace('.000Z', 'Z')}`, 'k'], // the same instant, written differently
      ['k@manual:2026-11-23T02:30:00.000Z:0123abcd', 'k'], // the form of a run without a key
      ['release@42', 'k'],
    ];
    for (const [key, job] of reserved) {
      const r = tock(sb, ['run', job, '--idempotency-key', key]);
      assert.equal(r.status, 2, `run ${job} --idempotency-key ${key}: ${r.stdout}${r.stderr}`);
      assert.ok(isCleanError(r), r.stderr);
      assert.match(r.stderr, /--idempotency-key: .* contains "@", which tock reserves for its own keys/, r.stderr);
    }
    assert.equal(storeChecksum(sb.db), before, 'a refused run changed the store');
    assert.deepEqual(lines(runs), [], 'a refused run executed the target');

    const daemon = await startDaemon(sb);
    try {
      const occ = await waitFor(
        `${scheduledKey} to run`,
        () => history(sb, 'k').find((o) => o.idempotency_key === scheduledKey && o.state === 'succeeded'),
        20_000,
        250,
      );
      assert.equal(occ.attempts.length, 1);
    } finally {
      await daemon.stop();
    }
    assert.deepEqual(lines(runs), [scheduledKey], 'the scheduled firing ran once, by the daemon');

    const first = tock(sb, ['run', 'k', '--idempotency-key', 'deploy-42']);
    assert.equal(first.status, 0, first.stderr);
    const again = tock(sb, ['run', 'k', '--idempotency-key', 'deploy-42']);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /key deploy-42 was already used by occurrence #\d+; not executing it again/);
    assert.deepEqual(lines(runs), [scheduledKey, 'deploy-42'], 'a repeated key executed again');
  }),
);

// ---- item 12: an attempt's started_at is when its target started -------------------------

function assertStartedAfter(occ: HistoryOcc, released: number): void {
  const shown = JSON.stringify(occ.attempts);
  assert.equal(occ.attempts.length, 1, shown);
  const [a] = occ.attempts;
  assert.ok(a.finished_at !== null, shown);
  assert.ok(Date.parse(a.started_at) >= released, `started_at ${a.started_at} is before the store let the runner start the target (${iso(released)})`);
  assert.ok(Date.parse(a.started_at) <= Date.parse(a.finished_at!), `started_at after finished_at: ${shown}`);
}

test(
  'a daemon held up by a locked store records when each target started, not the instant it was due',
  withSandbox(async (sb) => {
    const daemon = await startDaemon(sb);
    try {
      ok(sb, ['add', 'late', '--cron', '* * * * * *', '--overlap', 'allow', '--shell', 'true']);
      await waitFor('a first firing', () => history(sb, 'late').some((o) => o.state === 'succeeded'), 20_000, 100);
      // A firing is claimed at most 25 ms before it is due, so one due 50 ms or more after
      // the lock was taken is claimed after: its claim waits for the release, and its target
      // cannot start before it.
      const lock = lockStore(sb);
      const lockedAt = Date.now();
      await sleep(2_500);
      const released = lock.release();
      const held = await waitFor(
        'the firings held up by the lock to finish',
        () => {
          const due = history(sb, 'late').filter((o) => Date.parse(o.scheduled_at) >= lockedAt + 50 && Date.parse(o.scheduled_at) < released);
          return due.length > 0 && due.every((o) => o.state === 'succeeded') && due;
        },
        20_000,
        250,
      );
      for (const occ of held) assertStartedAfter(occ, released);
    } finally {
      await daemon.stop();
    }
  }),
);

test(
  'tock run held up by a locked store records when the target started, not when the command began',
  withSandbox(async (sb) => {
    ok(sb, ['add', 'now', '--every', '1h', '--shell', 'true']);
    const lock = lockStore(sb);
    const run = tockAsync(sb, ['run', 'now', '--json']);
    await sleep(2_500); // the command starts and waits for the lock (up to its busy timeout, 5 s)
    const released = lock.release();
    const r = await run;
    assert.equal(r.status, 0, r.stderr);
    assertStartedAfter(r.json() as HistoryOcc, released);
  }),
);

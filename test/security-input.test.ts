// Input a security review found accepted or recorded wrongly (issue 13): an `every` below
// one second, and a manual key that takes a scheduled firing's place. Real CLI processes,
// real daemons and a real SQLite store per test.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  exited,
  isCleanError,
  storeChecksum,
  tock,
  tockSpawn,
  waitFor,
  withSandbox,
  writeFile,
  type Sandbox,
} from './helpers/cli.js';
import type { HistoryOcc } from './helpers/store-env.js';

const iso = (t: number) => new Date(t).toISOString();
/** A whole second at least `lead` ms from now. */
const wholeSecondAfter = (lead: number) => Math.ceil((Date.now() + lead) / 1000) * 1000;

function ok(sb: Sandbox, args: string[]): string {
  const r = tock(sb, args);
  assert.equal(r.status, 0, `tock ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function history(sb: Sandbox, job: string): HistoryOcc[] {
  const r = tock(sb, ['history', job, '--json']);
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

// Runners that must not be mistaken for one another (issue 13, items 2, 3 and 14): the
// cleanup of one store never reaches the processes of another store running the same job's
// occurrence #1 under the same key; a daemon in another PID namespace with the same host
// name is judged by its lease, not by a pid that means something else out here; and a
// runner whose lease lapsed while it was only stopped is not said to have died. Real
// daemons, real `tock run` processes, real targets, a real `unshare`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BIN, exited, sandbox, tock, tockSpawn, waitFor, withSandbox, type Sandbox } from './helpers/cli.js';
import { isAlive } from './helpers/exec-fixtures.js';
import type { HistoryOcc } from './helpers/store-env.js';
import { judge, selfProcess } from '../src/daemon/identity.js';
import { openBackend } from '../src/store/open.js';

const soon = (ms: number) => new Date(Date.now() + ms).toISOString();

/**
 * A target that writes its pid to `pidFile` and runs until `release` exists (a minute at
 * most, so a failed test leaves nothing behind for long); it succeeds only if released.
 */
function waitingTarget(pidFile: string, release: string): string {
  return `echo $$ > ${pidFile}; i=0; while [ ! -e ${release} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; [ -e ${release} ]`;
}

function history(sb: Sandbox, job: string): HistoryOcc[] {
  const r = tock(sb, ['history', job, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return r.json();
}

function pidIn(file: string): number | undefined {
  return fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() ? Number(fs.readFileSync(file, 'utf8')) : undefined;
}

/** Waits for the daemon's `started` line; returns its runner id. */
async function waitStarted(d: ReturnType<typeof tockSpawn>): Promise<string> {
  const line = await waitFor(`daemon ${d.pid} to start`, () => {
    if (d.exitCode !== null) throw new Error(`daemon exited with ${d.exitCode}:\n${d.output()}`);
    return / started +daemon (\S+) /.exec(d.output()) ?? undefined;
  });
  return line[1];
}

async function stopped(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  await exited(child);
}

test('a store\'s timed-out attempt does not kill another store\'s attempt of the same job, occurrence and key', async () => {
  const a = sandbox();
  const b = sandbox();
  const pidFile = path.join(b.dir, 'target.pid');
  const release = path.join(b.dir, 'release');
  let runB: ReturnType<typeof tockSpawn> | undefined;
  try {
    assert.equal(tock(a, ['add', 'j', '--every', '1h', '--shell', 'sleep 30', '--timeout', '1s', '--retries', '0']).status, 0);
    assert.equal(tock(b, ['add', 'j', '--every', '1h', '--shell', waitingTarget(pidFile, release), '--timeout', '1h']).status, 0);
    // Both stores' occurrence #1 of job j, under the same key.
    runB = tockSpawn(b, ['run', 'j', '--idempotency-key', 'same-key', '--json']);
    const target = await waitFor('store B\'s target to start', () => pidIn(pidFile));

    const runA = tock(a, ['run', 'j', '--idempotency-key', 'same-key', '--json']);
    assert.equal(runA.status, 1, runA.stderr);
    assert.equal(runA.json().id, 1);
    assert.equal(runA.json().attempts[0].outcome, 'timeout');
    assert.ok(isAlive(target), 'store A\'s cleanup killed store B\'s target');

    fs.writeFileSync(release, '');
    assert.equal(await exited(runB), 0, runB.output());
    const occ = JSON.parse(runB.output());
    assert.equal(occ.id, 1);
    assert.equal(occ.idempotency_key, 'same-key');
    assert.equal(occ.state, 'succeeded');
    assert.equal(occ.attempts.length, 1);
  } finally {
    fs.writeFileSync(release, '');
    if (runB) await stopped(runB);
    a.cleanup();
    b.cleanup();
  }
});

test('a daemon stopping its attempt does not kill another store\'s daemon\'s attempt of the same occurrence', async () => {
  const a = sandbox();
  const b = sandbox();
  const at = soon(2_500); // one instant for both: the same idempotency key
  const daemons: ReturnType<typeof tockSpawn>[] = [];
  const files = (sb: Sandbox) => ({ pid: path.join(sb.dir, 'target.pid'), release: path.join(sb.dir, 'release') });
  try {
    for (const sb of [a, b]) {
      const add = tock(sb, ['add', 'j', '--at', at, '--shell', waitingTarget(files(sb).pid, files(sb).release)]);
      assert.equal(add.status, 0, add.stderr);
    }
    const [da, db] = [tockSpawn(a, ['daemon', '--grace', '0s']), tockSpawn(b, ['daemon'])];
    daemons.push(da, db);
    await waitFor('both targets to start', () => pidIn(files(a).pid) && pidIn(files(b).pid), 20_000);
    const target = pidIn(files(b).pid)!;
    assert.equal(history(a, 'j')[0].idempotency_key, history(b, 'j')[0].idempotency_key);

    // No grace: daemon A stops its target at once, and cleans up after it.
    da.kill('SIGTERM');
    await exited(da);
    assert.match(da.output(), /released\s+j #1: stopped by shutdown/);
    assert.ok(isAlive(target), `store A's shutdown killed store B's target:\n${db.output()}`);

    fs.writeFileSync(files(b).release, '');
    const done = await waitFor('store B\'s occurrence to succeed', () => history(b, 'j').find((o) => o.state === 'succeeded'));
    assert.equal(done.attempts.length, 1, db.output());
  } finally {
    for (const sb of [a, b]) fs.writeFileSync(files(sb).release, '');
    for (const d of daemons) await stopped(d);
    a.cleanup();
    b.cleanup();
  }
});

/** A pid no process holds here (and likely will not soon): the one the daemon gets inside its namespace. */
function pidFreeOutside(): number {
  const max = Math.min(Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8')), 4_000_000);
  for (let p = Math.floor(max * 0.9); p > 300; p--) {
    if ([0, 1, 2, 3].every((d) => !fs.existsSync(`/proc/${p + d}`))) return p;
  }
  throw new Error('no free pid');
}

const unshareWorks = () =>
  process.platform === 'linux' && spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'true']).status === 0;

test(
  'a daemon in another PID namespace with the same host name keeps its occurrence while it renews the lease',
  { skip: unshareWorks() ? false : 'unshare --pid --fork --mount-proc is not permitted here' },
  withSandbox(async (sb) => {
    const pidFile = path.join(sb.dir, 'target.pid');
    const release = path.join(sb.dir, 'release');
    const leaseMs = 4_000;
    const lease = ['--lease', `${leaseMs / 1000}s`];
    assert.equal(tock(sb, ['add', 'long', '--at', soon(2_000), '--shell', waitingTarget(pidFile, release)]).status, 0);
    // Inside: a fresh PID namespace whose daemon gets a pid that no process holds out here,
    // so a judge by host name and pid would take it for dead. --kill-child: killing unshare
    // ends the namespace, and everything in it.
    const innerPid = pidFreeOutside();
    const script = `echo ${innerPid - 1} > /proc/sys/kernel/ns_last_pid; "$0" "$@" & wait $!`;
    const inner = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', '/bin/sh', '-c', script, process.execPath, BIN, 'daemon', ...lease], {
      env: sb.env,
      cwd: sb.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let innerOut = '';
    inner.stdout!.on('data', (d) => (innerOut += d));
    inner.stderr!.on('data', (d) => (innerOut += d));
    let outer: ReturnType<typeof tockSpawn> | undefined;
    try {
      await waitFor('the namespaced daemon\'s target to start', () => pidIn(pidFile), 20_000);
      const [running] = history(sb, 'long');
      assert.equal(running.state, 'running', innerOut);
      const innerId = running.lease_owner!;
      assert.match(innerId, new RegExp(`:${innerPid}:`), 'the daemon got the pid chosen for it');

      outer = tockSpawn(sb, ['daemon', ...lease]);
      const outerId = await waitStarted(outer);
      const watchedFrom = Date.now();
      const status = tock(sb, ['status', '--json']);
      assert.deepEqual(status.json().daemons.map((d: { id: string }) => d.id).sort(), [innerId, outerId].sort());
      // Several lease periods, each with a few of the outer daemon's recovery passes, while
      // the inner daemon keeps renewing.
      await waitFor('three lease periods of renewals', () => {
        const [o] = history(sb, 'long');
        assert.equal(o.attempts.length, 1, `re-run by the daemon outside:\n${outer!.output()}`);
        return Date.now() > watchedFrom + 3 * leaseMs;
      }, 60_000, 250);
      assert.doesNotMatch(outer.output(), /recovered/);

      fs.writeFileSync(release, '');
      const done = await waitFor('the occurrence to succeed', () => history(sb, 'long').find((o) => o.state === 'succeeded'));
      assert.deepEqual(done.attempts.map((a) => [a.n, a.runner, a.outcome]), [[1, innerId, 'succeeded']]);
    } finally {
      fs.writeFileSync(release, '');
      if (outer) await stopped(outer, 'SIGTERM');
      await stopped(inner);
    }
  }),
);

test(
  'a stopped (SIGSTOP) daemon whose lease lapsed is said to have stopped renewing it, not to have died',
  withSandbox(async (sb) => {
    const pidFile = path.join(sb.dir, 'target.pid');
    const release = path.join(sb.dir, 'release');
    const lease = ['--lease', '2s'];
    assert.equal(tock(sb, ['add', 'frozen', '--at', soon(1_500), '--shell', waitingTarget(pidFile, release)]).status, 0);
    const first = tockSpawn(sb, ['daemon', ...lease]);
    let second: ReturnType<typeof tockSpawn> | undefined;
    try {
      const target = await waitFor('the first attempt to start', () => pidIn(pidFile), 20_000);
      first.kill('SIGSTOP');
      second = tockSpawn(sb, ['daemon', ...lease]);
      const line = await waitFor('the occurrence to be recovered', () => /^.* recovered .*$/m.exec(second!.output())?.[0], 30_000);
      assert.match(line, /frozen #1: runner \S+ stopped renewing its lease \(dead or unresponsive\) while the target ran; re-running/);
      assert.doesNotMatch(line, /died/);
      // The first attempt's target, started by that runner of this store, does not run on beside the re-run.
      assert.match(line, /killed 1 leftover process group/);
      await waitFor('the first attempt\'s target to be gone', () => !isAlive(target));
      const [occ] = history(sb, 'frozen');
      assert.match(occ.attempts[0].error ?? '', /stopped renewing its lease \(dead or unresponsive\)/);
    } finally {
      fs.writeFileSync(release, '');
      first.kill('SIGKILL');
      first.kill('SIGCONT');
      await exited(first);
      if (second) await stopped(second);
    }
  }),
);

test('liveness: only a process of this boot and PID namespace is judged, by pid and start time', async () => {
  const me = selfProcess();
  assert.equal(judge(me), 'alive');
  const child = spawn('sleep', ['30']);
  const row = { ...me, pid: child.pid! };
  const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'latin1');
  row.start_ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  assert.equal(judge(row), 'alive');
  assert.equal(judge({ ...row, start_ticks: row.start_ticks - 1 }), 'dead', 'the pid now belongs to another process');
  assert.equal(judge({ ...row, pid_ns: 'pid:[1]' }), 'unknown', 'another PID namespace: the lease decides');
  assert.equal(judge({ ...row, boot_id: 'another-boot' }), 'unknown', 'another machine or boot: the lease decides');
  assert.equal(judge({ ...row, boot_id: null, pid_ns: null, start_ticks: null }), 'unknown', 'a runner of an older tock');
  child.kill('SIGKILL');
  await exited(child);
  assert.equal(judge(row), 'dead');
});

test(
  'a store of schema 3 migrates: it gets a store id, and its runners are judged by lease',
  withSandbox(async (sb) => {
    assert.equal(tock(sb, ['list']).status, 0);
    // Back to schema 3, as the previous tock left it, with a runner row of that tock: this
    // host, a pid that is not running here, a fresh heartbeat.
    const db = new Database(sb.db);
    db.exec(`
      DROP TABLE store_identity;
      ALTER TABLE runners DROP COLUMN boot_id;
      ALTER TABLE runners DROP COLUMN pid_ns;
      ALTER TABLE runners DROP COLUMN start_ticks;
      DELETE FROM schema_migrations WHERE version > 3;
    `);
    const now = Date.now();
    db.prepare(`INSERT INTO runners (id, kind, host, pid, version, started_at, heartbeat_at) VALUES ('old', 'daemon', ?, ?, '0.0.0', ?, ?)`).run(
      os.hostname(),
      pidFreeOutside(),
      now,
      now,
    );
    db.close();

    const status = tock(sb, ['status', '--json']);
    assert.equal(status.status, 0, status.stderr);
    // A row without the process's identity cannot be proven dead: its heartbeat decides.
    assert.deepEqual(status.json().daemons.map((d: { id: string }) => d.id), ['old']);
    const store = await openBackend(sb.db);
    try {
      const id = await store.storeId();
      assert.match(id, /^[0-9a-f]{32}$/);
      const again = await openBackend(sb.db);
      assert.equal(await again.storeId(), id, 'made once');
      await again.close();
    } finally {
      await store.close();
    }
  }),
);

// The Backend interface, exercised directly, against every backend named in
// TOCK_TEST_BACKENDS (default `sqlite`): the same tests, unchanged, for each. Each test gets a
// fresh store of its own.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJobsFile } from '../src/config/file.js';
import { StoreError, type Backend, type FiringRequest, type Occurrence } from '../src/store/backend.js';
import type { AttemptResult, JobSpec } from '../src/types.js';
import { testBackends, type Harness, type Store } from './helpers/backends.js';

const T0 = Date.parse('2026-11-23T02:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const LEASE = 30_000;

function specs(yaml: string): JobSpec[] {
  return parseJobsFile(yaml, 'jobs.yaml');
}

const [hourly, daily] = specs(`
jobs:
  - name: hourly
    cron: "0 * * * *"
    shell: { command: "true" }
  - name: daily
    cron: "0 3 * * *"
    shell: { command: "true" }
    delivery: at-most-once
`);

const [alerting, watched] = specs(`
jobs:
  - name: alerting
    cron: "0 * * * *"
    shell: { command: "true" }
    retries: 0
    notify:
      - { on: [failed, recovered], shell: "echo a" }
      - { on: [failed, recovered], shell: "echo b", after: 2 }
  - name: watched
    cron: "0 * * * *"
    shell: { command: "sleep 5" }
    delivery: at-most-once
    late_after: 1s
    warn_after: 1s
    notify:
      - { on: [abandoned, missed, late, long], shell: "echo w" }
`);

function result(outcome: AttemptResult['outcome'], at: number): AttemptResult {
  const failed = outcome !== 'succeeded';
  return { outcome, retryable: failed, exitCode: failed ? 1 : 0, error: failed ? 'exit status 1' : undefined, output: 'hi\n', outputTruncated: false, outputBytes: 3, startedAt: at, finishedAt: at + 5 };
}

function runner(id: string, at: number) {
  return { id, kind: 'daemon' as const, host: 'test', pid: 1, version: 'test', startedAt: at, detail: null, bootId: null, pidNs: null, startTicks: null };
}

function firing(job: JobSpec, version: number, at: number): FiringRequest {
  return { job: job.name, jobVersion: version, key: `${job.name}@${new Date(at).toISOString()}`, scheduledAt: at, fireAt: at, delivery: job.delivery, overlap: 'allow', once: false, following: at + HOUR };
}

/** A test with a fresh store and a first handle on it, both closed and removed afterwards. */
function withStore(h: Harness, fn: (store: Store, b: Backend) => Promise<void>) {
  return async () => {
    const store = await h.fresh();
    const b = await store.open();
    try {
      await fn(store, b);
    } finally {
      await b.close();
      await store.cleanup();
    }
  };
}

/** Claims a manual occurrence of `job` for `who` and records its single attempt as `outcome`. */
async function finished(b: Backend, job: JobSpec, key: string, at: number, outcome: AttemptResult['outcome'] = 'succeeded') {
  const { occurrence } = (await b.claimManual({ job: job.name, key, runner: 'r1', now: at, leaseMs: LEASE }))!;
  await b.recordAttempts('r1', at + 10, [{ occurrenceId: occurrence.id, n: 1, result: result(outcome, at), spec: job, random: 0 }]);
  return occurrence.id;
}

/** A running occurrence held by `who`, whose lease lapsed at T0 + 1 s, as activeOccurrences() reads it. */
async function lapsed(store: Store, b: Backend, who: string): Promise<Occurrence> {
  await b.addJob(hourly, 'cli', T0);
  await b.registerRunner(runner(who, T0));
  const { occurrence } = (await b.claimManual({ job: 'hourly', key: 'm', runner: who, now: T0, leaseMs: LEASE }))!;
  await store.setLeaseExpiry(occurrence.id, T0 + 1_000);
  return (await b.activeOccurrences()).find((o) => o.id === occurrence.id)!;
}

for (const h of testBackends()) {
  describe(`backend ${h.name}`, () => {
    test('migrations: a fresh store is created and migrated, and opens again as it is', withStore(h, async (store, b) => {
      assert.deepEqual(await b.listJobs(), []);
      assert.match(await b.storeId(), /^\S{8,}$/);
      const again = await store.open();
      assert.equal(await again.storeId(), await b.storeId(), 'one id per store');
      await again.close();
    }));

    test('migrations: a store written by a newer tock is refused, not touched', withStore(h, async (store, b) => {
      await b.addJob(hourly, 'cli', T0);
      await store.setSchemaVersion(9_999);
      const before = await store.fingerprint();
      await assert.rejects(store.open(), (err: unknown) => err instanceof StoreError && !err.transient && /newer tock/.test(err.message));
      assert.equal(await store.fingerprint(), before);
    }));

    test('catalogue: add, duplicate add refused, pause/resume, remove, each bumping the generation', withStore(h, async (_store, b) => {
      const g0 = await b.generation();
      const job = await b.addJob(hourly, 'cli', T0);
      assert.equal(job?.name, 'hourly');
      assert.equal(job?.version, 1);
      assert.equal(job?.cursorAt, T0);
      assert.equal(job?.next?.at, T0 + HOUR, 'its next firing remembered');
      assert.equal(await b.addJob(hourly, 'cli', T0 + 1), undefined, 'the name is taken');
      const g1 = await b.generation();
      assert.ok(g1 > g0);
      assert.equal(await b.setPaused('hourly', true, T0 + 2), true);
      assert.equal(await b.setPaused('hourly', true, T0 + 3), false, 'already paused');
      assert.equal(await b.setPaused('nope', true, T0), undefined, 'no such job');
      const g2 = await b.generation();
      assert.ok(g2 > g1);
      assert.equal(await b.setPaused('hourly', false, T0 + 4 * HOUR), true);
      const resumed = await b.getJob('hourly');
      assert.equal(resumed?.paused, false);
      assert.equal(resumed?.cursorAt, T0 + 4 * HOUR, 'the pause is not replayed');
      assert.deepEqual((await b.jobVersions()).map((v) => [v.name, v.version]), [['hourly', 3]]);
      assert.equal(await b.removeJob('hourly'), true);
      assert.equal(await b.removeJob('hourly'), false);
      assert.ok((await b.generation()) > g2);
      assert.deepEqual(await b.listJobs(), []);
    }));

    test('catalogue: apply plans create, update, unchanged and remove (with prune) in one go', withStore(h, async (_store, b) => {
      await b.addJob(hourly, 'cli', T0);
      const first = await b.applyJobs([daily], { source: '/jobs.yaml', prune: false, now: T0 });
      assert.deepEqual(first, { created: ['daily'], updated: [], unchanged: [], removed: [] });
      const [daily2] = specs(`jobs:\n  - name: daily\n    cron: "0 4 * * *"\n    shell: { command: "true" }\n    delivery: at-most-once\n`);
      const dry = await b.applyJobs([daily2], { source: '/jobs.yaml', prune: true, now: T0 + 1, dryRun: true });
      assert.deepEqual(dry, { created: [], updated: ['daily'], unchanged: [], removed: ['hourly'] });
      assert.equal((await b.getJob('daily'))?.version, 1, 'a dry run writes nothing');
      const own = await b.applyJobs([daily], { source: '/jobs.yaml', prune: true, pruneOwnOnly: true, now: T0 + 2 });
      assert.deepEqual(own, { created: [], updated: [], unchanged: ['daily'], removed: [] }, "a job of another source is not the file's to prune");
      const real = await b.applyJobs([daily2], { source: '/jobs.yaml', prune: true, now: T0 + HOUR });
      assert.deepEqual(real, { created: [], updated: ['daily'], unchanged: [], removed: ['hourly'] });
      const updated = (await b.getJob('daily'))!;
      assert.equal(updated.version, 2);
      assert.equal(updated.cursorAt, T0 + HOUR, 'a schedule change moves the cursor');
      assert.deepEqual((await b.listJobs()).map((j) => j.name), ['daily']);
    }));

    test('UNIQUE dedup of manual keys: the second claim of a key gets the first occurrence', withStore(h, async (store, a) => {
      await a.addJob(hourly, 'cli', T0);
      const b = await store.open();
      try {
        const [one, two] = await Promise.all([
          a.claimManual({ job: 'hourly', key: 'k1', runner: 'ra', now: T0, leaseMs: LEASE }),
          b.claimManual({ job: 'hourly', key: 'k1', runner: 'rb', now: T0, leaseMs: LEASE }),
        ]);
        assert.deepEqual([one!.existing, two!.existing].sort(), [false, true]);
        assert.equal(one!.occurrence.id, two!.occurrence.id);
        assert.equal(one!.occurrence.key, 'k1');
        assert.equal((await a.history({ limit: 10 })).length, 1);
        assert.equal(await a.claimManual({ job: 'gone', key: 'k2', runner: 'ra', now: T0, leaseMs: LEASE }), undefined);
      } finally {
        await b.close();
      }
    }));

    test('manual runs: retry rules, a fresh attempt under the same key, failure recorded', withStore(h, async (_store, b) => {
      await b.addJob(daily, 'cli', T0);
      const { occurrence } = (await b.claimManual({ job: 'daily', key: 'd1', runner: 'r1', now: T0, leaseMs: LEASE }))!;
      assert.equal(occurrence.state, 'running');
      assert.equal(occurrence.origin, 'manual');
      assert.deepEqual((await b.retryOccurrence(occurrence.id, 'r1', T0, LEASE, false))?.kind, 'refused', 'still running');
      await b.failOccurrence(occurrence.id, 'interrupted', T0 + 5, { n: 1, result: result('failed', T0) });
      const failedOcc = (await b.occurrence(occurrence.id))!;
      assert.equal(failedOcc.state, 'failed');
      assert.equal(failedOcc.reason, 'interrupted');
      assert.deepEqual((await b.retryOccurrence(occurrence.id, 'r1', T0 + 6, LEASE, false))?.kind, 'refused', 'at-most-once needs --force');
      const forced = await b.retryOccurrence(occurrence.id, 'r1', T0 + 7, LEASE, true);
      assert.equal(forced?.kind, 'started');
      assert.equal(forced?.kind === 'started' && forced.n, 2);
      assert.equal(forced?.kind === 'started' && forced.occurrence.trigger, 'retry');
      const attempts = await b.attempts(occurrence.id, true);
      assert.deepEqual(attempts.map((a) => [a.n, a.trigger, a.outcome]), [[1, 'manual', 'failed'], [2, 'retry', 'running']]);
      assert.equal(attempts[0].output, 'hi\n');
      assert.equal(await b.retryOccurrence(999, 'r1', T0, LEASE, false), undefined);
      assert.equal(await b.startAttempt(occurrence.id, 3, 'someone-else', T0 + 8, LEASE), false, 'not held by that runner');
    }));

    test('reads: history, recent results and counts by state', withStore(h, async (_store, b) => {
      await b.addJob(hourly, 'cli', T0);
      await b.registerRunner(runner('r1', T0));
      await finished(b, hourly, 'a', T0);
      await finished(b, hourly, 'b', T0 + HOUR, 'failed');
      const rows = await b.history({ job: 'hourly', limit: 10 });
      assert.deepEqual(rows.map((r) => r.occurrence.key), ['b', 'a'], 'newest first');
      assert.equal(rows[0].attempts[0].output, undefined, 'history carries no output');
      assert.equal(rows[0].occurrence.state, 'pending', 'a retryable failure waits to retry');
      assert.deepEqual((await b.recent('hourly', 5)).map((r) => r.state), ['succeeded']);
      assert.deepEqual((await b.counts()).byState, { succeeded: 1, pending: 1 });
      assert.equal((await b.occurrenceByKey('a'))?.state, 'succeeded');
    }));

    test('runners: register, heartbeat renews its leases, stop', withStore(h, async (_store, b) => {
      await b.addJob(hourly, 'cli', T0);
      await b.registerRunner(runner('r1', T0));
      const { occurrence } = (await b.claimManual({ job: 'hourly', key: 'm', runner: 'r1', now: T0, leaseMs: LEASE }))!;
      assert.deepEqual(await b.heartbeat('r1', T0 + 10_000, LEASE), []);
      assert.equal((await b.occurrence(occurrence.id))?.leaseExpiresAt, T0 + 10_000 + LEASE);
      const [r] = await b.runners(['r1']);
      assert.equal(r.heartbeatAt, T0 + 10_000);
      assert.equal(r.stoppedAt, null);
      assert.equal((await b.poll('r1')).generation, await b.generation());
      await b.stopRunner('r1', T0 + 20_000);
      assert.equal((await b.runners(['r1']))[0].stoppedAt, T0 + 20_000);
    }));

    test('a locked store fails a write with a transient StoreError, and works once it is free', withStore(h, async (store) => {
      const b = await store.open({ busyTimeoutMs: 200 });
      try {
        const release = await store.holdWriteLock();
        try {
          await assert.rejects(b.addJob(hourly, 'cli', T0), (err: unknown) => err instanceof StoreError && err.transient);
        } finally {
          await release();
        }
        assert.equal((await b.addJob(hourly, 'cli', T0))?.name, 'hourly');
      } finally {
        await b.close();
      }
    }));

    test('claim races: two handles claim the same firings at once; each key is claimed once, the union complete', withStore(h, async (store, a) => {
      const job = (await a.addJob(hourly, 'cli', T0))!;
      const b = await store.open();
      try {
        await a.registerRunner(runner('ra', T0));
        await b.registerRunner(runner('rb', T0));
        const firings = [1, 2, 3, 4, 5, 6].map((i) => firing(hourly, job.version, T0 + i * HOUR));
        const now = T0 + 7 * HOUR;
        const claim = (x: Backend, who: string) => x.claimFirings({ runner: who, now, leaseMs: LEASE, slots: 100, firings });
        const [ra, rb] = await Promise.all([claim(a, 'ra'), claim(b, 'rb')]);
        const won = (r: typeof ra) => r.decisions.flatMap((d) => (d.kind === 'started' ? [d.occurrence.key] : []));
        const all = [...won(ra), ...won(rb)];
        assert.equal(new Set(all).size, all.length, 'no key claimed twice');
        assert.deepEqual(all.sort(), firings.map((f) => f.key).sort(), 'every firing claimed by one of them');
        assert.equal((await a.history({ limit: 100 })).length, firings.length);
      } finally {
        await b.close();
      }
    }));

    test('lease takeover: a lapsed lease is taken over once; the second taker gets raced', withStore(h, async (store, a) => {
      const seen = await lapsed(store, a, 'dead');
      assert.equal(seen.leaseOwner, 'dead');
      const b = await store.open();
      try {
        const now = T0 + 60_000;
        const req = [{ occurrence: seen, why: 'its lease lapsed', jobExists: true }];
        const [ta, tb] = await Promise.all([a.takeOver('ra', now, LEASE, req), b.takeOver('rb', now, LEASE, req)]);
        assert.deepEqual([ta[0].kind === 'raced', tb[0].kind === 'raced'].sort(), [false, true], 'exactly one took it');
      } finally {
        await b.close();
      }
    }));

    test('record after the lease was lost: the attempt is written, the occurrence left to its new owner', withStore(h, async (store, a) => {
      const seen = await lapsed(store, a, 'slow');
      const [taken] = await a.takeOver('new-owner', T0 + 60_000, LEASE, [{ occurrence: seen, why: 'its lease lapsed', jobExists: true }]);
      assert.notEqual(taken.kind, 'raced');
      const { recorded } = await a.recordAttempts('slow', T0 + 61_000, [{ occurrenceId: seen.id, n: 1, result: result('succeeded', T0), spec: hourly, random: 0 }]);
      assert.equal(recorded[0].kind, 'lost');
      const attempt = (await a.attempts(seen.id, false)).find((x) => x.n === 1)!;
      assert.equal(attempt.outcome, 'succeeded', "the slow runner's attempt is recorded honestly");
      const after = (await a.occurrence(seen.id))!;
      assert.equal(after.leaseOwner, 'new-owner');
      assert.notEqual(after.state, 'succeeded', 'the new owner decides');
    }));

    test('prune honours keepRuns per job and keepDays, and never deletes active occurrences', withStore(h, async (_store, b) => {
      await b.addJob(hourly, 'cli', T0 - 30 * DAY);
      await b.registerRunner(runner('r1', T0 - 30 * DAY));
      const active = (await b.claimManual({ job: 'hourly', key: 'active', runner: 'r1', now: T0 - 20 * DAY, leaseMs: LEASE }))!.occurrence.id;
      for (const [i, key] of ['old1', 'old2'].entries()) await finished(b, hourly, key, T0 - 10 * DAY + i);
      for (let i = 0; i < 5; i++) await finished(b, hourly, `new${i}`, T0 - 5 * HOUR + i * HOUR);
      let cursor: Awaited<ReturnType<Backend['prune']>>['cursor'];
      let deleted = 0;
      for (let steps = 0; steps === 0 || cursor; steps++) {
        assert.ok(steps < 100, 'a prune pass ends');
        const r = await b.prune({ now: T0, keepDays: 7, keepRuns: 3, cursor, batch: 1, jobsPerStep: 1 });
        deleted += r.deleted;
        cursor = r.cursor;
      }
      const left = (await b.history({ limit: 100 })).map((r) => r.occurrence.key).sort();
      assert.deepEqual(left, ['active', 'new2', 'new3', 'new4']);
      assert.equal(deleted, 4);
      assert.equal((await b.occurrence(active))?.state, 'running');
    }));

    // ---- issue 15, notifications: the outbox

    test('outbox: a failure writes its notifications with the result, after: N fires on the Nth only, a success closes the run with recovered', withStore(h, async (_store, b) => {
      await b.addJob(alerting, 'cli', T0);
      await b.addJob(hourly, 'cli', T0);
      await finished(b, hourly, 'quiet', T0, 'failed');
      assert.deepEqual(await b.notifications({ limit: 10 }), [], 'a job without notify: writes nothing');
      for (let i = 1; i <= 3; i++) await finished(b, alerting, `k${i}`, T0 + i * HOUR, 'failed');
      await finished(b, alerting, 'k4', T0 + 4 * HOUR, 'succeeded');
      await finished(b, alerting, 'k5', T0 + 5 * HOUR, 'succeeded');
      const rows = (await b.notifications({ limit: 100 })).reverse();
      const seen = rows.map((n) => [n.key, n.payload.failures ?? 0]);
      assert.deepEqual(seen, [
        ['k1#notify:failed:0', 1],
        ['k2#notify:failed:0', 2],
        ['k2#notify:failed:1', 2],
        ['k3#notify:failed:0', 3],
        ['k4#notify:recovered:0', 3],
        ['k4#notify:recovered:1', 3],
      ]);
      const first = rows[0];
      assert.equal(first.state, 'pending');
      assert.equal(first.attempts, 0);
      assert.equal(first.job, 'alerting');
      assert.equal(first.event, 'failed');
      assert.deepEqual(first.target, { kind: 'shell', command: 'echo a' });
      assert.equal(first.payload.state, 'failed');
      assert.equal(first.payload.exitCode, 1);
      assert.equal(first.payload.output, 'hi\n');
      assert.equal(first.payload.occurrenceKey, 'k1');
      assert.deepEqual(await b.notifications({ job: 'alerting', state: 'sent', limit: 10 }), []);
      assert.equal((await b.notifications({ job: 'alerting', limit: 2 })).length, 2);
    }));

    test('outbox: claimed under a lease by one runner at a time, settled only by its holder, a lapsed lease reclaimed, retries under one key', withStore(h, async (_store, b) => {
      await b.addJob(alerting, 'cli', T0);
      await finished(b, alerting, 'k1', T0, 'failed');
      const T1 = T0 + HOUR;
      assert.deepEqual(await b.outboxStats(), { depth: 1, failures: 0 }, 'written, not yet delivered');
      const [a] = await b.claimNotifications('A', T1, 60_000, 10);
      assert.equal(a.key, 'k1#notify:failed:0');
      assert.equal(a.attempts, 1);
      assert.equal(a.leaseOwner, 'A');
      assert.deepEqual(await b.claimNotifications('B', T1 + 1, 60_000, 10), [], 'held by A');
      const [again] = await b.claimNotifications('B', T1 + 60_000, 60_000, 10);
      assert.equal(again.id, a.id, "A's lease lapsed: B takes it");
      assert.equal(again.attempts, 2);
      assert.equal(await b.settleNotifications('A', T1 + 60_001, [{ id: a.id, kind: 'sent' }]), 0, 'A no longer holds it');
      assert.equal(await b.settleNotifications('B', T1 + 60_002, [{ id: a.id, kind: 'retry', at: T1 + 70_000, error: 'HTTP 503' }]), 1);
      assert.deepEqual(await b.claimNotifications('A', T1 + 65_000, 60_000, 10), [], 'not due before its backoff');
      const [third] = await b.claimNotifications('A', T1 + 70_000, 60_000, 10);
      assert.equal(third.key, a.key);
      assert.equal(third.attempts, 3);
      assert.equal(third.lastError, 'HTTP 503');
      assert.equal(await b.settleNotifications('A', T1 + 70_005, [{ id: a.id, kind: 'sent' }]), 1);
      const [sent] = await b.notifications({ limit: 10 });
      assert.equal(sent.state, 'sent');
      assert.equal(sent.sentAt, T1 + 70_005);
      assert.equal(sent.attempts, 3);
      assert.equal(sent.lastError, 'HTTP 503', 'the last delivery error stays visible');
      assert.deepEqual(await b.claimNotifications('B', T1 + 10 * HOUR, 60_000, 10), [], 'sent: never claimed again');
      await finished(b, alerting, 'k2', T1 + HOUR, 'failed');
      const [k2] = await b.claimNotifications('A', T1 + 2 * HOUR, 60_000, 10);
      assert.equal(await b.settleNotifications('A', T1 + 2 * HOUR, [{ id: k2.id, kind: 'failed', error: 'HTTP 404' }]), 1);
      assert.deepEqual((await b.notifications({ state: 'failed', limit: 10 })).map((n) => [n.key, n.lastError]), [['k2#notify:failed:0', 'HTTP 404']]);
      const pending = (await b.notifications({ state: 'pending', limit: 100 })).length;
      assert.deepEqual(await b.outboxStats(), { depth: pending, failures: 1 }, 'the pending ones, and one given up');
    }));

    test('outbox: abandoned by a takeover, missed by catch-up, and late and long notices, each written once per key', withStore(h, async (store, b) => {
      const job = (await b.addJob(watched, 'cli', T0))!;
      await b.registerRunner(runner('dead', T0));
      const { occurrence } = (await b.claimManual({ job: 'watched', key: 'm', runner: 'dead', now: T0, leaseMs: LEASE }))!;
      assert.equal(await b.noticeOccurrences(T0 + 500, [{ occurrenceId: occurrence.id, event: 'long', reason: 'still running after 1s' }]), 1);
      assert.equal(await b.noticeOccurrences(T0 + 600, [{ occurrenceId: occurrence.id, event: 'long', reason: 'again' }]), 0, 'once per occurrence');
      await store.setLeaseExpiry(occurrence.id, T0 + 1_000);
      const seen = (await b.activeOccurrences()).find((o) => o.id === occurrence.id)!;
      const [took] = await b.takeOver('r2', T0 + 2_000, LEASE, [{ occurrence: seen, why: 'its runner died', jobExists: true }]);
      assert.equal(took.kind, 'abandoned');
      const missed = (at: number) => ({ key: `watched@${at}`, scheduledAt: at, fireAt: at, reason: 'missed while no daemon ran' });
      const [m] = await b.recordMissed('r2', T0 + 3_000, LEASE, [
        { job: 'watched', jobVersion: job.version, delivery: watched.delivery, once: false, missed: [missed(T0 + HOUR), missed(T0 + 2 * HOUR)], execute: [], following: null },
      ]);
      assert.equal(m.recorded, 2);
      const late = (await b.history({ job: 'watched', state: 'missed', limit: 1 }))[0].occurrence;
      assert.equal(await b.noticeOccurrences(T0 + 4_000, [{ occurrenceId: late.id, event: 'late', reason: 'x' }, { occurrenceId: late.id, event: 'late', reason: 'x' }]), 1);
      assert.equal(await b.noticeOccurrences(T0 + 4_000, [{ occurrenceId: 999_999, event: 'late', reason: 'no such occurrence' }]), 0);
      const rows = (await b.notifications({ job: 'watched', limit: 100 })).reverse();
      assert.deepEqual(rows.map((n) => [n.event, n.key]), [
        ['long', 'm#notify:long:0'],
        ['abandoned', 'm#notify:abandoned:0'],
        ['missed', `watched@${T0 + HOUR}#notify:missed:0`],
        ['missed', `watched@${T0 + 2 * HOUR}#notify:missed:0`],
        ['late', `${late.key}#notify:late:0`],
      ]);
      assert.equal(rows[0].payload.reason, 'still running after 1s');
      assert.equal(rows[1].payload.state, 'abandoned');
      assert.equal(rows[1].payload.failures, 1);
    }));

    // ---- observability (issue 15, helper M)

    test('jobTotals: per job counts by state, last success and next fire, including a removed job with history', withStore(h, async (_store, b) => {
      await b.addJob(hourly, 'cli', T0);
      await b.addJob(daily, 'cli', T0);
      await b.registerRunner(runner('r1', T0));
      await finished(b, hourly, 's1', T0);
      await finished(b, hourly, 's2', T0 + HOUR);
      await finished(b, daily, 'f1', T0, 'failed');
      await b.claimManual({ job: 'daily', key: 'r1', runner: 'r1', now: T0 + 2 * HOUR, leaseMs: LEASE });
      const totals = await b.jobTotals();
      assert.deepEqual(totals.map((t) => t.job), ['daily', 'hourly']);
      const [d, hr] = totals;
      assert.deepEqual(hr.byState, { succeeded: 2 });
      assert.deepEqual(d.byState, { failed: 1, running: 1 });
      assert.ok(hr.lastSuccessAt !== null && hr.lastSuccessAt >= T0 + HOUR && hr.lastSuccessAt <= T0 + HOUR + 10, 'the later success');
      assert.equal(d.lastSuccessAt, null);
      assert.equal(hr.nextFireAt, (await b.getJob('hourly'))!.next!.at);
      await b.removeJob('daily');
      const after = (await b.jobTotals()).find((t) => t.job === 'daily')!;
      assert.deepEqual(after.byState, { failed: 1, running: 1 }, 'its history still counts');
      assert.equal(after.nextFireAt, null);
    }));

    test('jobStats: counts, retries, last success and bounded samples of duration and lateness, filtered by job and since', withStore(h, async (_store, b) => {
      const job = (await b.addJob(hourly, 'cli', T0))!;
      await b.addJob(daily, 'cli', T0);
      await b.registerRunner(runner('r1', T0));
      const claimAt = async (at: number) => {
        const r = await b.claimFirings({ runner: 'r1', now: at, leaseMs: LEASE, slots: 10, firings: [firing(hourly, job.version, at)] });
        const d = r.decisions[0];
        assert.equal(d.kind, 'started');
        return (d as { occurrence: Occurrence }).occurrence.id;
      };
      const record = (id: number, n: number, outcome: AttemptResult['outcome'], started: number) =>
        b.recordAttempts('r1', started + 10, [{ occurrenceId: id, n, result: result(outcome, started), spec: hourly, random: 0 }]);
      const first = await claimAt(T0 + HOUR);
      await record(first, 1, 'succeeded', T0 + HOUR + 200);
      const second = await claimAt(T0 + 2 * HOUR);
      assert.equal((await record(second, 1, 'failed', T0 + 2 * HOUR + 50)).recorded[0].kind, 'retry');
      assert.equal(await b.startAttempt(second, 2, 'r1', T0 + 2 * HOUR + 2_000, LEASE), true);
      await record(second, 2, 'succeeded', T0 + 2 * HOUR + 2_000);
      await finished(b, daily, 'd1', T0, 'failed');

      const all = await b.jobStats({ samples: 100 });
      assert.deepEqual(all.map((s) => s.job), ['daily', 'hourly']);
      const hr = all[1];
      assert.deepEqual(hr.byState, { succeeded: 2 });
      assert.equal(hr.retries, 1);
      assert.deepEqual(hr.durationsMs, [5, 5, 5]);
      assert.deepEqual([...hr.latenessMs].sort((x, y) => x - y), [50, 200], 'first attempts of scheduled firings only');
      assert.ok(hr.lastSuccessAt !== null && hr.lastSuccessAt >= T0 + 2 * HOUR + 2_000);
      assert.deepEqual(all[0].latenessMs, [], 'a manual run has no lateness');

      const since = await b.jobStats({ job: 'hourly', sinceMs: T0 + HOUR + 1, samples: 100 });
      assert.equal(since.length, 1);
      assert.deepEqual(since[0].byState, { succeeded: 1 });
      assert.equal(since[0].retries, 1);
      assert.deepEqual(since[0].latenessMs, [50]);
      const bounded = await b.jobStats({ job: 'hourly', samples: 1 });
      assert.equal(bounded[0].durationsMs.length, 1, 'at most `samples` per job');
      assert.deepEqual(await b.jobStats({ job: 'nope', samples: 10 }), []);
    }));

    test('probe: resolves on an idle store; a write lock held elsewhere past its wait is a transient StoreError', withStore(h, async (store, b) => {
      await b.probe(100);
      const release = await store.holdWriteLock();
      try {
        await assert.rejects(b.probe(100), (err: unknown) => err instanceof StoreError && err.transient && /locked/.test(err.message));
      } finally {
        await release();
      }
      await b.probe(100);
    }));
  });
}

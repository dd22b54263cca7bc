// The SQLite RunnerSide's group commit: recordAttempts calls that arrive while an earlier
// one waits for the write lock join its transaction (one commit), each caller getting its
// own results; a claim riding along that fails is undone alone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonSide } from '../src/store/sqlite/daemon-side.js';
import type { AttemptRecord, FiringRequest } from '../src/store/backend.js';
import { idempotencyKey } from '../src/schedule/index.js';
import { withSandbox } from './helpers/cli.js';
import { MINUTE, T0 } from './helpers/daemon-harness.js';
import { Connection } from '../src/store/sqlite/connection.js';
import { parseJobsFile } from '../src/config/file.js';
import type { Sandbox } from './helpers/cli.js';
import type { JobSpec } from '../src/types.js';

const RUNNER = 'runner-a';

// A test of the SQLite adapter itself: it watches and holds the connection's write lock.
function openStore(sb: Sandbox): Connection {
  return Connection.open(sb.db, { busyTimeoutMs: 5_000 });
}

function addJobs(conn: Connection, yaml: string, createdAt: number): void {
  conn.write(() => {
    for (const spec of parseJobsFile(yaml, 'test.yaml')) conn.jobs.insert(spec, 'test', createdAt);
  });
}

function firing(spec: JobSpec, m: number): FiringRequest {
  const at = T0 + m * MINUTE;
  return { job: spec.name, jobVersion: 1, key: idempotencyKey(spec.name, at), scheduledAt: at, fireAt: at, delivery: spec.delivery, overlap: 'allow', once: false, following: null };
}

function success(spec: JobSpec, occurrenceId: number): AttemptRecord {
  const result = { outcome: 'succeeded' as const, retryable: false, output: '', outputTruncated: false, outputBytes: 0, startedAt: T0, finishedAt: T0 };
  return { occurrenceId, n: 1, result, spec, random: 0.5 };
}

test(
  'recordAttempts calls meeting at a busy write lock share one transaction; a failing claim riding along is undone alone',
  withSandbox(async (sb) => {
    const store = openStore(sb);
    const holder = openStore(sb);
    try {
      addJobs(store, 'jobs:\n  - name: j\n    every: 1m\n    shell: "true"\n', T0);
      const spec = store.jobs.get('j')!.spec;
      const side = daemonSide(store);
      const claimed = await side.claimFirings({ runner: RUNNER, now: T0, leaseMs: 60_000, slots: 3, firings: [1, 2, 3].map((m) => firing(spec, m)) });
      const ids = claimed.decisions.map((d) => (d.kind === 'started' ? d.occurrence.id : assert.fail(d.kind)));

      let transactions = 0;
      const writeWhenFree = store.writeWhenFree.bind(store);
      store.writeWhenFree = <T>(fn: () => T, committed?: (r: T) => void) => writeWhenFree(() => (transactions++, fn()), committed);
      const advance = store.jobs.advance.bind(store.jobs);
      store.jobs.advance = () => {
        throw Object.assign(new Error('disk I/O error (injected)'), { code: 'SQLITE_IOERR' });
      };

      holder.db.exec('BEGIN IMMEDIATE');
      setTimeout(() => holder.db.exec('COMMIT'), 20);
      const riding = { runner: RUNNER, now: T0, leaseMs: 60_000, slots: 1, firings: [firing(spec, 4)] };
      const calls = [
        side.recordAttempts(RUNNER, T0, [success(spec, ids[0])], riding),
        side.recordAttempts(RUNNER, T0, [success(spec, ids[1]), success(spec, ids[2])]),
      ];
      const [first, second] = await Promise.all(calls);
      store.jobs.advance = advance;
      assert.equal(transactions, 1, 'one transaction for both calls');
      assert.deepEqual(first.recorded, [{ kind: 'succeeded' }]);
      assert.deepEqual(second.recorded, [{ kind: 'succeeded' }, { kind: 'succeeded' }]);
      assert.equal(first.claimed, undefined, 'the failed claim is reported as not made');
      const states = ids.map((id) => store.occurrences.byId(id)!.state);
      assert.deepEqual(states, ['succeeded', 'succeeded', 'succeeded'], 'the results committed');
      assert.equal(store.occurrences.byKey(firing(spec, 4).key), undefined, 'the claim left nothing behind');
    } finally {
      holder.close();
      store.close();
    }
  }),
);

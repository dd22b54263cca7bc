// How the daemon uses the store's write lock when busy: a finished target's result and
// the claim of the next firing share one transaction (one commit, one turn of the lock
// for daemons sharing the store), and a claim that fails inside that transaction is undone
// alone. An in-process daemon on a real store file, running real `true` shell targets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon } from '../src/daemon/daemon.js';
import type { LogEvent } from '../src/daemon/log.js';
import { Connection as Store } from '../src/store/sqlite/connection.js';
import { SqliteBackend } from '../src/store/sqlite/backend.js';
import { applyBurst } from '../bench/lib/burst.js';
import { waitFor, withSandbox, type Sandbox } from './helpers/cli.js';

const JOBS = 20;

/** JOBS `true` shell jobs whose first firing is the same whole second, ~1.5 s ahead. */
const applyJobs = (sb: Sandbox) => applyBurst(sb, { n: JOBS, kind: 'shell', leadMs: 1_500 });

/**
 * Runs a daemon at concurrency 1 until every firing of the burst has finished. `started`
 * is called once its start-up writes (runner row, jobs loaded, first heartbeat) are done.
 */
async function runBurst(store: Store, at: number, started = () => {}): Promise<{ logs: [LogEvent, string][] }> {
  const logs: [LogEvent, string][] = [];
  const daemon = new Daemon({
    backend: SqliteBackend.onConnection(store),
    log: (event, text) => logs.push([event, text]),
    concurrency: 1,
    graceMs: 5_000,
    leaseMs: 30_000,
    keepDays: 30,
    keepRuns: 1_000,
    firstPruneMs: 10 * 60_000,
  });
  await daemon.start(); // its first turn of the loop runs before this resolves
  started();
  try {
    await waitFor(
      `all ${JOBS} firings finished`,
      () => {
        const counts = store.read(() => store.occurrences.countsByState());
        return (counts.succeeded ?? 0) + (counts.failed ?? 0) === JOBS || undefined;
      },
      Math.max(0, at - Date.now()) + 30_000,
      20,
    );
  } finally {
    await daemon.stop();
  }
  return { logs };
}

function assertEachRanOnce(store: Store): void {
  const occs = store.read(() => store.occurrences.history({ limit: 1_000 }));
  assert.equal(occs.length, JOBS, 'one occurrence per firing');
  for (const o of occs) {
    assert.equal(o.state, 'succeeded', `${o.idempotency_key}: ${o.state} ${o.reason ?? ''}`);
    assert.equal(o.attempts, 1, `${o.idempotency_key} ran once`);
  }
}

test(
  `at concurrency 1, ${JOBS} firings due at once cost about one commit each: the result and the next claim share one`,
  withSandbox(async (sb) => {
    const at = applyJobs(sb);
    const store = Store.open(sb.db, { busyTimeoutMs: 5_000 });
    try {
      let writes = 0;
      let counting = false;
      // Every write transaction begins in one of these two (results wait for the lock on
      // the event loop, the rest block); a nested call is a savepoint, not a commit.
      const writeRaw = store.writeRaw.bind(store);
      store.writeRaw = <T>(fn: () => T): T => {
        if (counting && !store.db.inTransaction) writes++;
        return writeRaw(fn);
      };
      const writeWhenFree = store.writeWhenFree.bind(store);
      store.writeWhenFree = <T>(fn: () => T, committed?: (result: T) => void): Promise<T> => {
        const nested = store.db.inTransaction;
        return writeWhenFree(() => {
          if (counting && !nested) writes++; // fn runs once per transaction it begins
          return fn();
        }, committed);
      };
      await runBurst(store, at, () => (counting = true));
      assertEachRanOnce(store);
      // Separately, a claim and a result per firing would be 2 x JOBS + 1 commits. Together:
      // the first claim, then one per result (the last carrying no claim), plus a few of
      // the daemon's own (a heartbeat every 2 s while busy, the runner row at stop): 22
      // here, so the bound leaves room for a slow machine's extra heartbeats.
      assert.ok(writes >= JOBS, `${writes} write transactions: at least one per result`);
      assert.ok(writes <= 1.5 * JOBS, `${writes} write transactions for ${JOBS} firings at concurrency 1 (separately: ${2 * JOBS + 1})`);
    } finally {
      store.close();
    }
  }),
);

test(
  'a claim that fails inside a result\'s transaction is undone alone: the result stands, the firing is claimed again and runs once',
  withSandbox(async (sb) => {
    const at = applyJobs(sb);
    const store = Store.open(sb.db, { busyTimeoutMs: 5_000 });
    try {
      // The third claim fails after its occurrence row and attempt are written (moving the
      // job's cursor comes last). Were that not undone, the firing would stay claimed and
      // running with no target, and never run.
      let advances = 0;
      const advance = store.jobs.advance.bind(store.jobs);
      store.jobs.advance = (...args) => {
        if (++advances === 3) throw Object.assign(new Error('disk I/O error (injected)'), { code: 'SQLITE_IOERR' });
        return advance(...args);
      };
      const { logs } = await runBurst(store, at);
      assert.equal(advances, JOBS + 1, 'the failed claim was made again');
      assertEachRanOnce(store);
      const errors = logs.filter(([event]) => event === 'error');
      assert.deepEqual(errors, [], 'the claim was retried with the next result, before the loop had to report it');
    } finally {
      store.close();
    }
  }),
);

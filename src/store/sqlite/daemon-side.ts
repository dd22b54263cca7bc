// The RunnerSide of the Backend over SQLite: what a daemon (and `tock run`, for its lease)
// does to the store, each method one transaction of today's synchronous SQL, resolved at
// once. Errors come back as StoreError (transient: the caller waits and retries).

import type { PruneRequest, PruneResult, Runner, RunnerSide } from '../backend.js';
import type { Connection } from './connection.js';
import { claimIn } from './claim.js';
import { releaseOne, recordMissedOne, startOne, takeOverOne } from './pending.js';
import { RecordBatcher } from './record.js';
import { toOccurrence, toRunner } from './rows.js';

const WEEK_MS = 7 * 86_400_000;

export function daemonSide(conn: Connection): RunnerSide {
  const batcher = new RecordBatcher(conn);
  const lease = (runner: string, now: number, leaseMs: number) => ({ runner, now, leaseMs });
  const cancels = (runner: string) => conn.occurrences.cancelRequests(runner).map((c) => ({ id: c.id, reason: c.cancel_reason }));
  return {
    registerRunner: async (r) => conn.write(() => conn.runners.register(runnerRow(r))),
    heartbeat: async (runner, now, leaseMs) =>
      conn.write(() => {
        conn.runners.heartbeat(runner, now);
        conn.occurrences.renewLeases(runner, now + leaseMs);
        return cancels(runner);
      }),
    poll: async (runner) => conn.read(() => ({ generation: conn.jobs.generation(), cancels: cancels(runner) })),
    stopRunner: async (runner, now) => conn.write(() => conn.runners.stop(runner, now)),
    runners: async (ids) =>
      conn.read(() => {
        const rows = ids ? ids.map((id) => conn.runners.byId(id)).filter((r) => r !== undefined) : conn.runners.unstopped();
        return rows.map(toRunner);
      }),
    claimFirings: async (req) => conn.write(() => claimIn(conn, req)),
    recordMissed: async (runner, now, leaseMs, jobs) => conn.write(() => jobs.map((m) => recordMissedOne(conn, lease(runner, now, leaseMs), m))),
    recordAttempts: (runner, now, records, claim) => batcher.record({ runner, now, records, claim }),
    startPending: async (runner, now, leaseMs, reqs) => conn.write(() => reqs.map((r) => startOne(conn, lease(runner, now, leaseMs), r))),
    activeOccurrences: async () => conn.read(() => conn.occurrences.allActive().map(toOccurrence)),
    takeOver: async (runner, now, leaseMs, reqs) => conn.write(() => reqs.map((r) => takeOverOne(conn, lease(runner, now, leaseMs), r))),
    release: async (runner, now, items) => conn.write(() => items.forEach((i) => releaseOne(conn, lease(runner, now, 0), i))),
    prune: async (req) => conn.write(() => pruneStep(conn, req)),
  };
}

/** The runner row's columns: the domain names, snake_case where they differ. */
function runnerRow(r: Omit<Runner, 'stoppedAt' | 'heartbeatAt'>) {
  const { startedAt: started_at, bootId: boot_id, pidNs: pid_ns, startTicks: start_ticks, ...same } = r;
  return { ...same, started_at, boot_id, pid_ns, start_ticks };
}

/**
 * One step of retention: at most `batch` rows deleted, so firings due meanwhile are not held
 * up (one pass over 1,000,000 rows in a single statement stopped the loop for 1.3 s). First
 * what is older than keepDays, then each job beyond its newest keepRuns, job by job.
 */
function pruneStep(conn: Connection, req: PruneRequest): PruneResult {
  const cursor = req.cursor ?? { oldDone: false, after: '' };
  if (!cursor.oldDone) {
    const deleted = conn.occurrences.pruneOld(req.now - req.keepDays * 86_400_000, req.batch);
    return { deleted, cursor: { oldDone: deleted < req.batch, after: cursor.after } };
  }
  let budget = req.batch;
  let after = cursor.after;
  for (let jobs = 0; jobs < req.jobsPerStep && budget > 0; jobs++) {
    const job = conn.occurrences.nextJobWithHistory(after);
    if (job === undefined) {
      // The pass is complete: runners not seen for a week are forgotten with it,
      conn.runners.forget(req.now - WEEK_MS);
      // And notifications older than keepDays, delivered or given up: at most a batch a pass.
      conn.outbox.pruneOld(req.now - req.keepDays * 86_400_000, req.batch);
      return { deleted: req.batch - budget, cursor: undefined };
    }
    budget -= conn.occurrences.pruneJob(job, req.keepRuns, budget);
    if (budget === 0) break; // this job may have more: it is looked at again next step
    after = job;
  }
  return { deleted: req.batch - budget, cursor: { oldDone: true, after } };
}

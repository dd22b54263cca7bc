// What `tock run` and `tock retry` write on SQLite, each inside one write transaction of its
// caller (SqliteBackend): a manual claim under its key, a manual retry, the next attempt of
// a run waited out in place, and the end of an interrupted one.

import { mayRetry } from '../../semantics/delivery.js';
import type { AttemptResult } from '../../types.js';
import type { ManualClaim, Occurrence, RetryResult } from '../backend.js';
import type { Connection } from './connection.js';
import { toOccurrence } from './rows.js';
import { notifyEnded, specOf } from './notify-writes.js';

/** The occurrence of a manual key: the one already there, or a new one running attempt 1; undefined if the job is gone. */
export function claimManual(conn: Connection, c: ManualClaim): { occurrence: Occurrence; existing: boolean } | undefined {
  const existing = conn.occurrences.byKey(c.key);
  if (existing) return { occurrence: toOccurrence(existing), existing: true };
  const job = conn.jobs.get(c.job);
  if (!job) return undefined;
  const claimed = conn.occurrences.claim({
    job: c.job,
    key: c.key,
    scheduledAt: c.now,
    fireAt: c.now,
    origin: 'manual',
    delivery: job.spec.delivery,
    jobVersion: job.version,
    state: 'running',
    leaseOwner: c.runner,
    leaseExpiresAt: c.now + c.leaseMs,
    now: c.now,
  });
  return { occurrence: toOccurrence(claimed!), existing: false };
}

/** A new attempt of a final occurrence, if the delivery rules allow it (SPEC §4). */
export function retryOccurrence(conn: Connection, id: number, runner: string, now: number, leaseMs: number, force: boolean): RetryResult | undefined {
  const occ = conn.occurrences.byId(id);
  if (!occ) return undefined;
  const verdict = mayRetry(occ.delivery, occ.state, force);
  if (!verdict.ok) return { kind: 'refused', why: verdict.why };
  const n = occ.attempts + 1;
  conn.occurrences.setTrigger(id, 'retry');
  conn.occurrences.startAttempt(id, n, 'retry', runner, now + leaseMs, now);
  return { kind: 'started', occurrence: toOccurrence(conn.occurrences.byId(id)!), n };
}

/** Attempt n after a backoff, only if `runner` still holds the occurrence, waiting to retry. */
export function startAttempt(conn: Connection, id: number, n: number, runner: string, now: number, leaseMs: number): boolean {
  const held = conn.occurrences.standing(id);
  if (!held || held.lease_owner !== runner || held.state !== 'pending') return false;
  conn.occurrences.startAttempt(id, n, 'backoff', runner, now + leaseMs, now);
  return true;
}

export function failOccurrence(conn: Connection, id: number, reason: string, now: number, attempt?: { n: number; result: AttemptResult }): void {
  if (attempt) conn.occurrences.finishAttempt(id, attempt.n, attempt.result);
  conn.occurrences.finish(id, 'failed', reason, now);
  const job = conn.occurrences.byId(id)?.job;
  if (job !== undefined) notifyEnded(conn, specOf(conn, job), id, 'failed', now, { reason, result: attempt?.result });
}

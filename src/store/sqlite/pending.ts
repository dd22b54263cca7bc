// The SQLite writes for occurrences a runner holds but is not running: missed firings
// recorded and caught up, pending ones started (retries, queued, caught up), lapsed leases
// taken over, and what a stopping runner hands back. Each runs inside the caller's transaction.

import type { MissedRequest, MissedResult, Occurrence, Release, StartRequest, StartResult, TakeOverRequest, TakeOverResult } from '../backend.js';
import { mayStart } from '../../semantics/overlap.js';
import { onLeaseExpired, onShutdown } from '../../semantics/delivery.js';
import type { Connection } from './connection.js';
import { asActive } from './claim.js';
import { toOccurrence } from './rows.js';
import { notifyEnded, notifyMissed, specOf } from './notify-writes.js';

interface Lease {
  runner: string;
  now: number;
  leaseMs: number;
}

/** One job's missed firings: recorded missed, or pending (held by the runner) to run now. */
export function recordMissedOne(conn: Connection, l: Lease, m: MissedRequest): MissedResult {
  const claim = (f: { key: string; scheduledAt: number; fireAt: number }, state: 'missed' | 'pending', reason: string) =>
    conn.occurrences.claim({
      job: m.job,
      key: f.key,
      scheduledAt: f.scheduledAt,
      fireAt: f.fireAt,
      origin: 'catchup',
      delivery: m.delivery,
      jobVersion: m.jobVersion,
      now: l.now,
      state,
      reason,
      ...(state === 'pending' ? { leaseOwner: l.runner, leaseExpiresAt: l.now + l.leaseMs } : {}),
    });
  const missed = m.missed.map((f) => claim(f, 'missed', f.reason)).filter((o) => o !== undefined);
  const recorded = missed.length;
  if (recorded > 0) notifyMissed(conn, specOf(conn, m.job), missed, l.now);
  const queued: Occurrence[] = [];
  for (const f of m.execute) {
    const occ = claim(f, 'pending', 'caught up after downtime');
    if (occ) queued.push(toOccurrence(occ));
  }
  const last = Math.max(...m.missed.map((f) => f.scheduledAt), ...m.execute.map((f) => f.scheduledAt));
  conn.jobs.advance(m.job, m.jobVersion, last, m.following);
  if (m.once) conn.jobs.markDone(m.job, l.now);
  return { job: m.job, recorded, queued };
}

export function startOne(conn: Connection, l: Lease, req: StartRequest): StartResult {
  const occ = conn.occurrences.byId(req.id);
  if (!occ || occ.state !== 'pending' || occ.lease_owner !== l.runner) return { kind: 'gone' };
  if (req.overlap === undefined) {
    conn.occurrences.finish(occ.id, 'failed', `job ${occ.job} was removed before the occurrence could run`, l.now);
    return { kind: 'removed' };
  }
  // A queued or caught-up occurrence waits for the one before it; a retry continues its own run.
  const self = { id: occ.id, attempts: occ.attempts, scheduledAt: occ.scheduled_at };
  if (!mayStart(req.overlap, self, conn.occurrences.active(occ.job).map(asActive))) return { kind: 'wait' };
  const n = occ.attempts + 1;
  const afterRunnerLoss = /^(recovered|released)/.test(occ.reason ?? '');
  const trigger = afterRunnerLoss ? 'recovery' : occ.attempts > 0 ? 'backoff' : occ.trigger;
  conn.occurrences.startAttempt(occ.id, n, trigger, l.runner, l.now + l.leaseMs, l.now);
  return { kind: 'started', occurrence: toOccurrence({ ...occ, state: 'running', attempts: n }), n };
}

/** Compare-and-set on the lease as read, so of several runners noticing one expiry exactly one wins. */
export function takeOverOne(conn: Connection, l: Lease, req: TakeOverRequest): TakeOverResult {
  const o = req.occurrence;
  const was = { id: o.id, lease_owner: o.leaseOwner, lease_expires_at: o.leaseExpiresAt };
  if (!conn.occurrences.takeOver(was, l.runner, l.now + l.leaseMs, o.state === 'running')) return { kind: 'raced' };
  if (o.state === 'pending') return { kind: 'pending' };
  const verdict = onLeaseExpired(o.delivery, o.recoveries);
  const why = `${req.why} while the target ran`;
  conn.occurrences.abandonAttempt(o.id, o.attempts, why, l.now);
  if (verdict === 'abandon') {
    conn.occurrences.finish(o.id, 'abandoned', `${why}; at-most-once: never re-run`, l.now);
    notifyEnded(conn, specOf(conn, o.job), o.id, 'abandoned', l.now);
    return { kind: 'abandoned', reason: why };
  }
  if (verdict === 'give-up' || !req.jobExists) {
    const reason = req.jobExists ? `${why}; gave up after ${o.recoveries} re-runs` : `${why}; job ${o.job} no longer exists`;
    conn.occurrences.finish(o.id, 'failed', reason, l.now);
    notifyEnded(conn, specOf(conn, o.job), o.id, 'failed', l.now);
    return { kind: 'failed', reason };
  }
  conn.occurrences.waitForRetry(o.id, l.now, `recovered: ${why}`);
  return { kind: 'rerun', reason: why };
}

/** A stopped target's attempt recorded and its occurrence abandoned or handed back; a waiting one handed back. */
export function releaseOne(conn: Connection, l: Lease, item: Release): void {
  if (item.kind === 'waiting') {
    const occ = conn.occurrences.byId(item.occurrenceId);
    if (occ?.state === 'pending' && occ.lease_owner === l.runner) {
      conn.occurrences.release(occ.id, occ.reason ?? 'released by a stopping daemon', item.at);
    }
    return;
  }
  const id = item.occurrenceId;
  conn.occurrences.finishAttempt(id, item.n, { ...item.result, error: 'stopped: the daemon is shutting down' });
  if (onShutdown(item.delivery) === 'abandon') {
    conn.occurrences.finish(id, 'abandoned', 'the daemon stopped while the target ran (at-most-once: never re-run)', l.now);
    const job = conn.occurrences.byId(id)?.job;
    if (job !== undefined) notifyEnded(conn, specOf(conn, job), id, 'abandoned', l.now, { result: item.result });
  } else {
    conn.occurrences.release(id, 'released: the daemon stopped while the target ran; any daemon re-runs it', l.now);
  }
}

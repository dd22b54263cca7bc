// Claiming due firings (SQLite): each under its idempotency key, with overlap decided by
// src/semantics/overlap.ts inside the transaction that reads the job's active occurrences,
// so several daemons on one store decide alike. Runs inside the caller's transaction.

import type { ClaimDecision, ClaimRequest, ClaimResult, FiringRequest } from '../backend.js';
import { decideOverlap, type ActiveOccurrence, type OverlapDecision } from '../../semantics/overlap.js';
import type { Connection } from './connection.js';
import type { NewOccurrence, OccurrenceRow } from './occurrences.js';
import { toOccurrence } from './rows.js';

const LOST: ClaimDecision = { kind: 'lost' };
const NOT_YET: ClaimDecision = { kind: 'not-yet' };
const NONE: number[] = [];

/** Walks the firings in order until `slots` of them are started; one decision per firing walked. */
export function claimIn(conn: Connection, req: ClaimRequest): ClaimResult {
  const decisions: ClaimDecision[] = [];
  let slots = req.slots;
  // Stops when the slots are taken: the rest wait for a slot (another daemon may take them).
  for (let i = 0; i < req.firings.length && slots > 0; i++) {
    const d = claimOne(conn, req, req.firings[i]);
    if (d.kind === 'started') slots--;
    decisions.push(d);
  }
  return { walked: decisions.length, decisions };
}

function claimOne(conn: Connection, req: ClaimRequest, f: FiringRequest): ClaimDecision {
  // Lost to another daemon already: one index probe, nothing more.
  if (conn.occurrences.taken(f.key)) return LOST;
  const active = f.overlap === 'allow' ? [] : conn.occurrences.active(f.job).map(asActive);
  const decision = decideOverlap(f.overlap, active, f.fireAt, req.now);
  if (decision.kind === 'not-yet') return NOT_YET;
  const result = write(conn, req, f, decision);
  // With the cursor, for `tock list`: the firing after this one (no schedule work for it).
  conn.jobs.advance(f.job, f.jobVersion, f.scheduledAt, f.following);
  if (f.once) conn.jobs.markDone(f.job, req.now);
  return result;
}

function write(conn: Connection, req: ClaimRequest, f: FiringRequest, d: Exclude<OverlapDecision, { kind: 'not-yet' }>): ClaimDecision {
  const insert = (rest: Pick<NewOccurrence, 'state' | 'reason' | 'startsAt'>) =>
    conn.occurrences.claim({
      job: f.job,
      key: f.key,
      scheduledAt: f.scheduledAt,
      fireAt: f.fireAt,
      origin: 'schedule',
      delivery: f.delivery,
      jobVersion: f.jobVersion,
      leaseOwner: req.runner,
      leaseExpiresAt: req.now + req.leaseMs,
      now: req.now,
      ...rest,
    });
  if (d.kind === 'skip') {
    const blocker = { id: d.blocker.id, state: d.blocker.state };
    const occ = insert({ state: 'skipped', reason: `occurrence #${blocker.id} was still ${blocker.state} (overlap: skip)` });
    return occ ? { kind: 'skipped', occurrence: toOccurrence(occ), blocker } : LOST;
  }
  if (d.kind === 'queue') {
    const blocker = { id: d.blocker.id, state: d.blocker.state };
    const occ = insert({ state: 'pending', reason: `queued behind occurrence #${blocker.id}` });
    return occ ? { kind: 'queued', occurrence: toOccurrence(occ), blocker } : LOST;
  }
  const cancelled = d.kind === 'replace' ? d.cancel.map((a) => a.id) : NONE;
  const ended = d.kind === 'replace' ? d.end.map((a) => a.id) : NONE;
  for (const id of cancelled) conn.occurrences.requestCancel(id, `replaced by ${f.key}`);
  for (const id of ended) conn.occurrences.finish(id, 'failed', `replaced by ${f.key} before it ran again`, req.now);
  const occ = insert({ state: 'running', startsAt: Math.max(req.now, f.fireAt) });
  return occ ? { kind: 'started', occurrence: toOccurrence(occ), cancelled, ended } : LOST;
}

export function asActive(r: OccurrenceRow): ActiveOccurrence {
  return { id: r.id, state: r.state as ActiveOccurrence['state'], attempts: r.attempts, scheduledAt: r.scheduled_at };
}

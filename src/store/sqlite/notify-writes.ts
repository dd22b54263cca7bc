// Notifications written to the outbox (SQLite) inside the transaction that records what
// happened to an occurrence: failed, abandoned, missed, recovered, and the late and long
// notices a daemon sends. Which channels fire is src/semantics/notify.ts's decision; each
// row is keyed by notificationKey, so writing one twice (a replayed record, two daemons
// noticing the same lateness) keeps the first.

import { notificationKey, outputTail, type NotificationEvent } from '../../notify/event.js';
import { channelsToNotify } from '../../semantics/notify.js';
import type { AttemptResult, JobSpec, NotifyEvent } from '../../types.js';
import type { Notice } from '../notifications.js';
import type { Connection } from './connection.js';
import type { OccurrenceRow } from './occurrences.js';

/** What happened, beyond the occurrence row. */
export interface Happened {
  reason?: string | null;
  result?: AttemptResult;
  /** For recovered: the run of failures the success ends (the others count their own). */
  failures?: number;
  /** The occurrence's state as the message should say it, if not the row's. */
  state?: string;
}

/** Whether the job has a channel for this event at all: everything else skips the outbox's queries. */
export function listens(spec: JobSpec | undefined, event: NotifyEvent): spec is JobSpec {
  return spec?.notify?.some((c) => c.on.includes(event)) ?? false;
}

/** The job's spec as stored, for writes whose caller does not carry it. */
export function specOf(conn: Connection, job: string): JobSpec | undefined {
  return conn.jobs.get(job)?.spec;
}

/**
 * An occurrence just ended (failed, abandoned) or succeeded after failures (recovered):
 * its notifications, the failure streak counted from the job's occurrences in this transaction.
 */
export function notifyEnded(conn: Connection, spec: JobSpec | undefined, id: number, event: NotifyEvent, now: number, h: Happened = {}): void {
  if (!listens(spec, event)) return;
  const occ = conn.occurrences.byId(id);
  if (!occ) return;
  const failures = event === 'failed' || event === 'abandoned' ? conn.outbox.failureStreak(occ.job) : h.failures;
  enqueue(conn, spec, occ, event, now, { ...h, failures });
}

/** Missed firings just recorded by catch-up: one notification each, for the channels on missed. */
export function notifyMissed(conn: Connection, spec: JobSpec | undefined, rows: OccurrenceRow[], now: number): void {
  if (!listens(spec, 'missed')) return;
  for (const occ of rows) enqueue(conn, spec, occ, 'missed', now, {});
}

/** late and long, as a daemon noticed them: how many notifications were new. */
export function notifyNotices(conn: Connection, now: number, notices: Notice[]): number {
  let written = 0;
  for (const n of notices) {
    const occ = conn.occurrences.byId(n.occurrenceId);
    const spec = occ && specOf(conn, occ.job);
    if (occ && listens(spec, n.event)) written += enqueue(conn, spec, occ, n.event, now, { reason: n.reason });
  }
  return written;
}

/** One row per channel that fires; how many were new. */
function enqueue(conn: Connection, spec: JobSpec, occ: OccurrenceRow, event: NotifyEvent, now: number, h: Happened): number {
  let written = 0;
  for (const channel of channelsToNotify(spec.notify, event, h.failures ?? 0)) {
    const e = eventOf(occ, event, now, h);
    e.key = notificationKey(occ.idempotency_key, event, channel);
    if (conn.outbox.insert({ event: e, channel, target: spec.notify![channel].target, now })) written++;
  }
  return written;
}

function eventOf(occ: OccurrenceRow, event: NotifyEvent, now: number, h: Happened): NotificationEvent {
  const e: NotificationEvent = {
    key: '',
    event,
    job: occ.job,
    occurrenceId: occ.id,
    occurrenceKey: occ.idempotency_key,
    scheduledAt: occ.scheduled_at,
    at: now,
    state: h.state ?? occ.state,
    attempts: occ.attempts,
  };
  const reason = h.reason ?? occ.reason;
  if (reason) e.reason = reason;
  if (h.failures !== undefined && h.failures > 0) e.failures = h.failures;
  const r = h.result;
  if (r?.exitCode !== undefined) e.exitCode = r.exitCode;
  if (r?.signal !== undefined) e.signal = r.signal;
  if (r?.httpStatus !== undefined) e.httpStatus = r.httpStatus;
  // Bounded here, so a row never holds more than a message carries.
  if (r !== undefined && r.output !== '') e.output = outputTail(r.output);
  return e;
}

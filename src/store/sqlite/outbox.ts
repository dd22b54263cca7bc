// All SQL of the notification outbox (SQLite): rows written under their notification key in
// the caller's transaction, claimed with a lease as occurrences are, settled by the lease
// holder only, listed for `tock notifications`, and pruned with the history.

import type { NotificationEvent } from '../../notify/event.js';
import type { NotifyEvent, NotifyTarget } from '../../types.js';
import type { NotificationFilter, OutboxEntry, OutboxState } from '../notifications.js';
import type { Statements } from './statements.js';

interface OutboxRow {
  id: number;
  key: string;
  job: string;
  occurrence_id: number;
  event: NotifyEvent;
  channel: number;
  target: string;
  payload: string;
  state: OutboxState;
  attempts: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

export interface NewNotification {
  event: NotificationEvent;
  channel: number;
  target: NotifyTarget;
  now: number;
}

const PENDING = "state = 'pending'";

export class OutboxSql {
  constructor(private readonly s: Statements) {}

  /** Inserts the notification under its key; false if that key was written before (nothing changes). */
  insert(n: NewNotification): boolean {
    const e = n.event;
    return (
      this.s
        .get(
          `INSERT INTO notifications (key, job, occurrence_id, event, channel, target, payload, state, next_attempt_at, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (key) DO NOTHING`,
        )
        .run(e.key, e.job, e.occurrenceId, e.event, n.channel, JSON.stringify(n.target), JSON.stringify(e), n.now, n.now).changes === 1
    );
  }

  /**
   * The job's consecutive failed or abandoned occurrences since its last success (ended
   * after it), through occurrences_job: the job's own rows, bounded by retention.
   */
  failureStreak(job: string): number {
    return this.s
      .get(
        `SELECT COUNT(*) FROM occurrences WHERE job = @job AND state IN ('failed', 'abandoned')
           AND finished_at > COALESCE((SELECT MAX(finished_at) FROM occurrences WHERE job = @job AND state = 'succeeded'), -1)`,
      )
      .pluck()
      .get({ job }) as number;
  }

  /** Whether any row is due (a read, no lock): an idle outbox costs a poll no write transaction. */
  anyDue(now: number): boolean {
    return this.s.get(`SELECT 1 FROM notifications WHERE ${PENDING} AND next_attempt_at <= ? LIMIT 1`).pluck().get(now) !== undefined;
  }

  /** Takes up to `limit` due rows whose lease is free or lapsed, each try counted; oldest first. */
  claim(runner: string, now: number, leaseUntil: number, limit: number): OutboxEntry[] {
    const rows = this.s
      .get(
        `SELECT * FROM notifications WHERE ${PENDING} AND next_attempt_at <= ?
           AND (lease_expires_at IS NULL OR lease_expires_at <= ?) ORDER BY next_attempt_at, id LIMIT ?`,
      )
      .all(now, now, limit) as OutboxRow[];
    const take = this.s.get('UPDATE notifications SET lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1 WHERE id = ?');
    for (const r of rows) take.run(runner, leaseUntil, r.id);
    return rows.map((r) => toEntry({ ...r, lease_owner: runner, lease_expires_at: leaseUntil, attempts: r.attempts + 1 }));
  }

  /** Settles a claimed row, only while `runner` still holds it; false if not (its lease lapsed and passed on). */
  settle(id: number, runner: string, state: OutboxState, nextAt: number | null, error: string | null, now: number): boolean {
    return (
      this.s
        .get(
          `UPDATE notifications SET state = @state, next_attempt_at = COALESCE(@nextAt, next_attempt_at), last_error = COALESCE(@error, last_error),
             sent_at = CASE WHEN @state = 'sent' THEN @now ELSE sent_at END, lease_owner = NULL, lease_expires_at = NULL
           WHERE id = @id AND lease_owner = @runner AND ${PENDING}`,
        )
        .run({ id, runner, state, nextAt, error, now }).changes === 1
    );
  }

  /** Newest first. */
  list(f: NotificationFilter): OutboxEntry[] {
    const params: Record<string, unknown> = { limit: f.limit };
    if (f.job !== undefined) params.job = f.job;
    if (f.state !== undefined) params.state = f.state;
    const where = ['job', 'state'].filter((k) => k in params).map((k) => `${k} = @${k}`);
    const sql = `SELECT * FROM notifications ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
    return (this.s.get(sql).all(params) as OutboxRow[]).map(toEntry);
  }

  /** Not yet delivered (pending), and given up on (failed). */
  stats(): { depth: number; failures: number } {
    return this.s
      .get(`SELECT COUNT(*) FILTER (WHERE state = 'pending') AS depth, COUNT(*) FILTER (WHERE state = 'failed') AS failures FROM notifications`)
      .get() as { depth: number; failures: number };
  }

  /** Deletes up to `batch` delivered or given-up notifications created before `before`. */
  pruneOld(before: number, batch: number): number {
    return this.s
      .get(`DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE created_at < ? AND NOT ${PENDING} LIMIT ?)`)
      .run(before, batch).changes;
  }
}

function toEntry(r: OutboxRow): OutboxEntry {
  return {
    id: r.id,
    key: r.key,
    job: r.job,
    occurrenceId: r.occurrence_id,
    event: r.event,
    channel: r.channel,
    target: JSON.parse(r.target) as NotifyTarget,
    payload: JSON.parse(r.payload) as NotificationEvent,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    sentAt: r.sent_at,
  };
}

// The SQLite backend's reads of occurrences and attempts (who holds what, history, counts)
// and the retention deletes that walk them. OccurrencesSql (occurrences.ts) adds the writes.

import type { AttemptTrigger, OccurrenceState, Origin, Trigger } from '../domain.js';
import type { Delivery } from '../../types.js';
import type { Statements } from './statements.js';

export type { AttemptTrigger, OccurrenceState, Origin, Trigger } from '../domain.js';
export { STATES, FINAL_STATES } from '../domain.js';

export interface OccurrenceRow {
  id: number;
  job: string;
  idempotency_key: string;
  scheduled_at: number;
  fire_at: number;
  origin: Origin;
  trigger: Trigger;
  state: OccurrenceState;
  delivery: Delivery;
  job_version: number;
  attempts: number;
  recoveries: number;
  next_attempt_at: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  cancel_reason: string | null;
  reason: string | null;
  created_at: number;
  finished_at: number | null;
}

export interface AttemptRow {
  occurrence_id: number;
  n: number;
  trigger: AttemptTrigger;
  runner: string | null;
  started_at: number;
  finished_at: number | null;
  outcome: 'running' | 'succeeded' | 'failed' | 'timeout' | 'cancelled' | 'abandoned';
  exit_code: number | null;
  signal: string | null;
  http_status: number | null;
  error: string | null;
  output: string | null;
  output_truncated: number;
  output_bytes: number;
}

export interface NewOccurrence {
  job: string;
  key: string;
  scheduledAt: number;
  fireAt: number;
  origin: Origin;
  delivery: Delivery;
  jobVersion: number;
  /** running: the claimer starts attempt 1 now; pending: queued; skipped/missed: recorded only. */
  state: 'running' | 'pending' | 'skipped' | 'missed';
  reason?: string;
  leaseOwner?: string;
  leaseExpiresAt?: number;
  now: number;
  /** running: when attempt 1 is due to start, if later than now (claimed ahead); finishAttempt records the real start. */
  startsAt?: number;
}

export interface HistoryFilter {
  job?: string;
  state?: OccurrenceState;
  sinceMs?: number;
  limit: number;
}

export const ACTIVE = "state IN ('pending', 'running')";

export class OccurrenceReads {
  constructor(protected readonly s: Statements) {}

  /** Whether an occurrence holds this key (one index probe, no row read). */
  taken(key: string): boolean {
    return this.s.get('SELECT 1 FROM occurrences WHERE idempotency_key = ?').pluck().get(key) !== undefined;
  }

  /** Who holds an occurrence and in what state: what a runner checks before moving it. */
  standing(id: number): Pick<OccurrenceRow, 'state' | 'lease_owner' | 'cancel_reason'> | undefined {
    return this.s.get('SELECT state, lease_owner, cancel_reason FROM occurrences WHERE id = ?').get(id) as
      | Pick<OccurrenceRow, 'state' | 'lease_owner' | 'cancel_reason'>
      | undefined;
  }

  byId(id: number): OccurrenceRow | undefined {
    return this.s.get('SELECT * FROM occurrences WHERE id = ?').get(id) as OccurrenceRow | undefined;
  }

  byKey(key: string): OccurrenceRow | undefined {
    return this.s.get('SELECT * FROM occurrences WHERE idempotency_key = ?').get(key) as OccurrenceRow | undefined;
  }

  /** Running or pending occurrences of a job, oldest first. */
  active(job: string): OccurrenceRow[] {
    return this.s
      .get(`SELECT * FROM occurrences WHERE job = ? AND ${ACTIVE} ORDER BY scheduled_at, id`)
      .all(job) as OccurrenceRow[];
  }

  /** Every running or pending occurrence, for lease recovery and `status`. */
  allActive(): OccurrenceRow[] {
    return this.s.get(`SELECT * FROM occurrences WHERE ${ACTIVE} ORDER BY scheduled_at, id`).all() as OccurrenceRow[];
  }


  /** Cancellation requests against this runner's running occurrences. */
  cancelRequests(runner: string): { id: number; cancel_reason: string }[] {
    // The ACTIVE term lets SQLite use the partial index of active occurrences: without it
    // this poll (twice a second while anything runs) scans the whole history.
    return this.s
      .get(
        `SELECT id, cancel_reason FROM occurrences
         WHERE ${ACTIVE} AND state = 'running' AND lease_owner = ? AND cancel_reason IS NOT NULL`,
      )
      .all(runner) as { id: number; cancel_reason: string }[];
  }


  attempts(id: number): AttemptRow[] {
    return this.s.get('SELECT * FROM attempts WHERE occurrence_id = ? ORDER BY n').all(id) as AttemptRow[];
  }

  /** Failed attempts of the current run (a manual retry starts a fresh retry budget), this one's included. */
  failuresSince(id: number): number {
    return this.s
      .get(
        `SELECT COUNT(*) FROM attempts WHERE occurrence_id = @id AND outcome IN ('failed', 'timeout')
           AND n >= COALESCE((SELECT MAX(n) FROM attempts WHERE occurrence_id = @id AND trigger IN ('retry', 'manual')), 0)`,
      )
      .pluck()
      .get({ id }) as number;
  }

  /** Attempts without their output, for history listings. */
  attemptSummaries(id: number): AttemptRow[] {
    return this.s
      .get(
        `SELECT occurrence_id, n, trigger, runner, started_at, finished_at, outcome, exit_code, signal, http_status,
           error, NULL AS output, output_truncated, output_bytes
         FROM attempts WHERE occurrence_id = ? ORDER BY n`,
      )
      .all(id) as AttemptRow[];
  }

  history(f: HistoryFilter): OccurrenceRow[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: f.limit };
    if (f.job !== undefined) {
      where.push('job = @job');
      params.job = f.job;
    }
    if (f.state !== undefined) {
      where.push('state = @state');
      params.state = f.state;
    }
    if (f.sinceMs !== undefined) {
      where.push('scheduled_at >= @since');
      params.since = f.sinceMs;
    }
    const sql = `SELECT * FROM occurrences ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY scheduled_at DESC, id DESC LIMIT @limit`;
    return this.s.get(sql).all(params) as OccurrenceRow[];
  }

  /** The most recent finished occurrences of a job, newest first. */
  recent(job: string, n: number): Pick<OccurrenceRow, 'state' | 'finished_at' | 'scheduled_at'>[] {
    return this.s
      .get(
        `SELECT state, finished_at, scheduled_at FROM occurrences
         WHERE job = ? AND state NOT IN ('pending', 'running')
         ORDER BY scheduled_at DESC, id DESC LIMIT ?`,
      )
      .all(job, n) as Pick<OccurrenceRow, 'state' | 'finished_at' | 'scheduled_at'>[];
  }

  countsByState(): Record<string, number> {
    const rows = this.s.get('SELECT state, COUNT(*) AS n FROM occurrences GROUP BY state').all() as {
      state: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  // Retention (the daemon's pruneStep): finished occurrences older than --keep-days, and
  // per job all but the newest --keep-runs. Active occurrences are never pruned.

  /** Deletes up to `batch` finished occurrences created before `before` (through occurrences_created). */
  pruneOld(before: number, batch: number): number {
    return this.s
      .get(
        `DELETE FROM occurrences WHERE id IN (
           SELECT id FROM occurrences WHERE created_at < ? AND state NOT IN ('pending', 'running') LIMIT ?)`,
      )
      .run(before, batch).changes;
  }

  /**
   * Deletes a job's finished occurrences beyond its newest `keep`. Through occurrences_job:
   * the cost is the job's own rows, not the table's (a window over the whole table took
   * 1.3 s with 1,000,000 rows, all of it with the write lock held and the daemon's loop
   * stopped).
   */
  pruneJob(job: string, keep: number, batch: number): number {
    const edge = this.s
      .get('SELECT scheduled_at AS at, id FROM occurrences WHERE job = ? ORDER BY scheduled_at DESC, id DESC LIMIT 1 OFFSET ?')
      .get(job, keep - 1) as { at: number; id: number } | undefined;
    if (!edge) return 0;
    return this.s
      .get(
        `DELETE FROM occurrences WHERE id IN (
           SELECT id FROM occurrences WHERE job = ? AND (scheduled_at < ? OR (scheduled_at = ? AND id < ?))
             AND state NOT IN ('pending', 'running') LIMIT ?)`,
      )
      .run(job, edge.at, edge.at, edge.id, batch).changes;
  }

  /** The first job name after `after` that has occurrences, removed jobs included: one seek in occurrences_job. */
  nextJobWithHistory(after: string): string | undefined {
    return this.s.get('SELECT job FROM occurrences WHERE job > ? ORDER BY job LIMIT 1').pluck().get(after) as string | undefined;
  }
}

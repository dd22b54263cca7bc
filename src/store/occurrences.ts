// All SQL about occurrences and their attempts: claiming under the idempotency key,
// leases, attempts, final states, history queries and retention.

import type { AttemptResult, Delivery } from '../types.js';
import type { Statements } from './statements.js';

export type OccurrenceState = 'pending' | 'running' | 'succeeded' | 'failed' | 'abandoned' | 'skipped' | 'missed';
export type Origin = 'schedule' | 'catchup' | 'manual';
export type Trigger = Origin | 'retry';
/** How an attempt came about: the occurrence's trigger, or a retry after backoff, or a re-run after a crash. */
export type AttemptTrigger = Trigger | 'backoff' | 'recovery';

export const STATES: readonly OccurrenceState[] = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'abandoned',
  'skipped',
  'missed',
];
export const FINAL_STATES: readonly OccurrenceState[] = ['succeeded', 'failed', 'abandoned', 'skipped', 'missed'];

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

const ACTIVE = "state IN ('pending', 'running')";

export class OccurrencesSql {
  constructor(private readonly s: Statements) {}

  /**
   * Inserts the occurrence under its idempotency key. Returns the row when this call won
   * the UNIQUE constraint, undefined when the key was already taken (someone else owns it).
   * A claim in state running also opens attempt 1, in the caller's transaction.
   */
  claim(o: NewOccurrence): OccurrenceRow | undefined {
    const final = o.state === 'skipped' || o.state === 'missed';
    const values = {
      job: o.job,
      idempotency_key: o.key,
      scheduled_at: o.scheduledAt,
      fire_at: o.fireAt,
      origin: o.origin,
      trigger: o.origin,
      state: o.state,
      delivery: o.delivery,
      job_version: o.jobVersion,
      attempts: o.state === 'running' ? 1 : 0,
      lease_owner: final ? null : (o.leaseOwner ?? null),
      lease_expires_at: final ? null : (o.leaseExpiresAt ?? null),
      reason: o.reason ?? null,
      created_at: o.now,
      finished_at: final ? o.now : null,
    };
    // No RETURNING: it doubled the cost of the daemon's hottest statement (an ephemeral
    // table and a 19-column row read back), which runs with the store's write lock held.
    const info = this.s
      .get(
        `INSERT INTO occurrences (job, idempotency_key, scheduled_at, fire_at, origin, trigger, state, delivery,
           job_version, attempts, lease_owner, lease_expires_at, reason, created_at, finished_at)
         VALUES (@job, @idempotency_key, @scheduled_at, @fire_at, @origin, @trigger, @state, @delivery,
           @job_version, @attempts, @lease_owner, @lease_expires_at, @reason, @created_at, @finished_at)
         ON CONFLICT (idempotency_key) DO NOTHING`,
      )
      .run(values);
    if (info.changes === 0) return undefined;
    // The row as inserted: the columns above, and the others at their defaults.
    const row: OccurrenceRow = {
      id: Number(info.lastInsertRowid),
      ...values,
      recoveries: 0,
      next_attempt_at: null,
      cancel_reason: null,
    };
    if (o.state === 'running') this.insertAttempt(row.id, 1, o.origin, o.leaseOwner ?? null, o.startsAt ?? o.now);
    return row;
  }

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

  /** Starts attempt n (a retry, a re-run after a crash, a manual retry) under `runner`'s lease. */
  startAttempt(id: number, n: number, trigger: AttemptTrigger, runner: string, leaseUntil: number, now: number): void {
    this.s
      .get(
        `UPDATE occurrences SET state = 'running', attempts = ?, lease_owner = ?, lease_expires_at = ?,
           next_attempt_at = NULL, finished_at = NULL, reason = NULL
         WHERE id = ?`,
      )
      .run(n, runner, leaseUntil, id);
    this.insertAttempt(id, n, trigger, runner, now);
  }

  private insertAttempt(id: number, n: number, trigger: AttemptTrigger, runner: string | null, now: number): void {
    this.s
      .get(
        `INSERT INTO attempts (occurrence_id, n, trigger, runner, started_at, outcome)
         VALUES (?, ?, ?, ?, ?, 'running')`,
      )
      .run(id, n, trigger, runner, now);
  }

  /**
   * Records what an attempt returned, with the instant its target really started: the row
   * was opened with the instant it was due to start (claimed ahead, or by a runner that
   * then waited for the store), which is not what happened.
   */
  finishAttempt(id: number, n: number, r: AttemptResult): void {
    this.s
      .get(
        `UPDATE attempts SET started_at = @startedAt, finished_at = @finishedAt, outcome = @outcome, exit_code = @exitCode, signal = @signal,
           http_status = @httpStatus, error = @error, output = @output, output_truncated = @truncated,
           output_bytes = @outputBytes
         WHERE occurrence_id = @id AND n = @n`,
      )
      .run({
        id,
        n,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        outcome: r.outcome,
        exitCode: r.exitCode ?? null,
        signal: r.signal ?? null,
        httpStatus: r.httpStatus ?? null,
        error: r.error ?? null,
        output: r.output,
        truncated: r.outputTruncated ? 1 : 0,
        outputBytes: r.outputBytes,
      });
  }

  /** Closes an attempt that never returned (its runner died or was stopped). */
  abandonAttempt(id: number, n: number, error: string, now: number): void {
    this.s
      .get(
        `UPDATE attempts SET outcome = 'abandoned', error = ?, finished_at = ?
         WHERE occurrence_id = ? AND n = ? AND outcome = 'running'`,
      )
      .run(error, now, id, n);
  }

  /** A final state: succeeded, failed, abandoned, skipped or missed. Releases the lease. */
  finish(id: number, state: OccurrenceState, reason: string | null, now: number): void {
    this.s
      .get(
        `UPDATE occurrences SET state = ?, reason = ?, finished_at = ?, lease_owner = NULL,
           lease_expires_at = NULL, next_attempt_at = NULL, cancel_reason = NULL
         WHERE id = ?`,
      )
      .run(state, reason, now, id);
  }

  /** Waits for a retry: pending until `at`, still leased by its runner. */
  waitForRetry(id: number, at: number, reason: string): void {
    this.s
      .get(`UPDATE occurrences SET state = 'pending', next_attempt_at = ?, reason = ?, cancel_reason = NULL WHERE id = ?`)
      .run(at, reason, id);
  }

  /**
   * Hands a pending occurrence back for any runner to take at once (graceful shutdown of
   * an at-least-once target): the lease is released, the next attempt due now.
   */
  release(id: number, reason: string, now: number): void {
    this.s
      .get(
        `UPDATE occurrences SET state = 'pending', lease_owner = NULL, lease_expires_at = 0,
           next_attempt_at = COALESCE(next_attempt_at, ?), reason = ?
         WHERE id = ?`,
      )
      .run(now, reason, id);
  }

  /**
   * Takes over an occurrence whose lease ran out. Compare-and-set on the old lease, so of
   * several runners noticing the same expiry exactly one wins.
   */
  takeOver(o: Pick<OccurrenceRow, 'id' | 'lease_owner' | 'lease_expires_at'>, runner: string, leaseUntil: number, countsAsRecovery: boolean): boolean {
    return (
      this.s
        .get(
          `UPDATE occurrences SET lease_owner = ?, lease_expires_at = ?, recoveries = recoveries + ?
           WHERE id = ? AND ${ACTIVE} AND lease_owner IS ? AND lease_expires_at IS ?`,
        )
        .run(runner, leaseUntil, countsAsRecovery ? 1 : 0, o.id, o.lease_owner, o.lease_expires_at).changes === 1
    );
  }

  renewLeases(runner: string, leaseUntil: number): number {
    return this.s
      .get(`UPDATE occurrences SET lease_expires_at = ? WHERE lease_owner = ? AND ${ACTIVE}`)
      .run(leaseUntil, runner).changes;
  }

  /** Asks whichever runner holds a running occurrence to stop it (overlap: replace). */
  requestCancel(id: number, reason: string): void {
    this.s.get(`UPDATE occurrences SET cancel_reason = ? WHERE id = ? AND state = 'running'`).run(reason, id);
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

  setTrigger(id: number, trigger: Trigger): void {
    this.s.get('UPDATE occurrences SET trigger = ? WHERE id = ?').run(trigger, id);
  }

  attempts(id: number): AttemptRow[] {
    return this.s.get('SELECT * FROM attempts WHERE occurrence_id = ? ORDER BY n').all(id) as AttemptRow[];
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

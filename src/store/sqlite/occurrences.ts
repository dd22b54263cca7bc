// All SQL that changes occurrences and their attempts: claiming under the idempotency key,
// leases, attempts, final states. The reads and retention are in occurrence-reads.ts.

import type { AttemptResult } from '../../types.js';
import { ACTIVE, OccurrenceReads, type AttemptTrigger, type NewOccurrence, type OccurrenceRow, type OccurrenceState, type Trigger } from './occurrence-reads.js';

export * from './occurrence-reads.js';

export class OccurrencesSql extends OccurrenceReads {
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


  setTrigger(id: number, trigger: Trigger): void {
    this.s.get('UPDATE occurrences SET trigger = ? WHERE id = ?').run(trigger, id);
  }

}

// Recording finished attempts (SQLite), with group commit: calls that arrive while an
// earlier one waits for the write lock join its transaction, so many targets finishing at
// once cost one disk sync, not one each. The lock is waited for on the event loop
// (writeWhenFree): the daemon keeps reading its targets' results meanwhile.

import type { AttemptRecord, ClaimRequest, ClaimResult, Recorded } from '../backend.js';
import { afterAttempt } from '../../semantics/delivery.js';
import type { Connection } from './connection.js';
import { resultFailure } from './failure.js';
import { claimIn } from './claim.js';
import { listens, notifyEnded } from './notify-writes.js';

export interface RecordCall {
  runner: string;
  now: number;
  records: AttemptRecord[];
  claim?: ClaimRequest;
}

export interface RecordOutcome {
  recorded: Recorded[];
  claimed?: ClaimResult;
}

interface Waiter extends RecordCall {
  resolve: (r: RecordOutcome) => void;
  reject: (e: unknown) => void;
}

/**
 * Writes one attempt's result and the occurrence's next state, inside the caller's
 * transaction. Only the lease holder may move the occurrence; a runner that lost its lease
 * (it was judged dead) still records its attempt, honestly, but leaves the occurrence to
 * its new owner.
 */
export function recordOne(conn: Connection, runner: string, now: number, r: AttemptRecord): Recorded {
  const { occurrenceId: id, result } = r;
  conn.occurrences.finishAttempt(id, r.n, result);
  const current = conn.occurrences.standing(id);
  if (!current || current.lease_owner !== runner || current.state !== 'running') {
    return { kind: 'lost', reason: `the lease passed to ${current?.lease_owner ?? 'nobody'}` };
  }
  if (result.outcome === 'cancelled' && current.cancel_reason) {
    // Stopped on purpose (overlap: replace): it ends here, it is not retried.
    const reason = `cancelled: ${current.cancel_reason}`;
    conn.occurrences.finish(id, 'failed', reason, now);
    notifyEnded(conn, r.spec, id, 'failed', now, { reason, result });
    return { kind: 'failed', reason };
  }
  // Past failures matter only to a failure (a retry or not): a success skips the query.
  const failures = result.outcome === 'succeeded' ? 0 : conn.occurrences.failuresSince(id);
  const next = afterAttempt(r.spec, result, failures, () => r.random);
  // The run of failures a success ends, counted before it is recorded (recovered only).
  const closes = next.kind === 'succeeded' && listens(r.spec, 'recovered') ? conn.outbox.failureStreak(r.spec.name) : 0;
  if (next.kind === 'succeeded') conn.occurrences.finish(id, 'succeeded', null, now);
  else if (next.kind === 'failed') conn.occurrences.finish(id, 'failed', next.reason, now);
  else conn.occurrences.waitForRetry(id, now + next.delayMs, next.reason);
  if (next.kind === 'failed') notifyEnded(conn, r.spec, id, 'failed', now, { reason: next.reason, result });
  if (closes > 0) notifyEnded(conn, r.spec, id, 'recovered', now, { result, failures: closes });
  return next;
}

/** recordAttempts for one connection: batches the calls that meet at the write lock. */
export class RecordBatcher {
  /** The calls waiting for the write lock: a new call joins them. */
  private gathering: Waiter[] | undefined;

  constructor(private readonly conn: Connection) {}

  record(call: RecordCall): Promise<RecordOutcome> {
    return new Promise((resolve, reject) => {
      const waiter = { ...call, resolve, reject };
      if (this.gathering) return void this.gathering.push(waiter);
      const batch = [waiter];
      this.gathering = batch;
      this.conn.writeWhenFree(() => {
        if (this.gathering === batch) this.gathering = undefined; // from here on, a new call starts a new batch
        return this.write(batch);
      }).then(
        (outcomes) => batch.forEach((w, i) => w.resolve(outcomes[i])),
        (err) => {
          if (this.gathering === batch) this.gathering = undefined;
          const failure = resultFailure(err, this.conn.file);
          for (const w of batch) w.reject(failure);
        },
      );
    });
  }

  /** Every record of the batch first, then the claims riding along, each in a savepoint of its own. */
  private write(batch: Waiter[]): RecordOutcome[] {
    const recorded = batch.map((w) => w.records.map((r) => recordOne(this.conn, w.runner, w.now, r)));
    return batch.map((w, i) => ({ recorded: recorded[i], claimed: w.claim && this.claimAlong(w.claim) }));
  }

  /**
   * Nested in the results' transaction, so a savepoint: if claiming fails, it alone is
   * undone and the results still commit (the caller claims again later).
   */
  private claimAlong(req: ClaimRequest): ClaimResult | undefined {
    try {
      return this.conn.writeRaw(() => claimIn(this.conn, req));
    } catch {
      return undefined;
    }
  }
}

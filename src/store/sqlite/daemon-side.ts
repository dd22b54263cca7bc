// STUB of the runner/daemon side of the SQLite backend (helper D writes the real one): only
// what `tock run` and `tock retry` need is here, the runner's row and lease, and recording
// one attempt at a time; every other method throws until D's file replaces this one.

import { afterAttempt } from '../../semantics/delivery.js';
import type { AttemptRecord, Recorded, Runner, RunnerSide } from '../backend.js';
import type { Connection } from './connection.js';
import { toRunner } from './rows.js';

/** True while this file is the stub: the conformance suite skips what it cannot do. */
export const STUB = true;

export function daemonSide(conn: Connection): RunnerSide {
  const missing = async (): Promise<never> => {
    throw new Error('not implemented');
  };
  const cancels = (runner: string) => conn.occurrences.cancelRequests(runner).map((c) => ({ id: c.id, reason: c.cancel_reason }));
  return {
    async registerRunner(r) {
      conn.write(() => conn.runners.register(runnerRow(r)));
    },
    async heartbeat(runner, now, leaseMs) {
      return conn.write(() => {
        conn.runners.heartbeat(runner, now);
        conn.occurrences.renewLeases(runner, now + leaseMs);
        return cancels(runner);
      });
    },
    async poll(runner) {
      return conn.read(() => ({ generation: conn.jobs.generation(), cancels: cancels(runner) }));
    },
    async stopRunner(runner, now) {
      conn.write(() => conn.runners.stop(runner, now));
    },
    async runners(ids) {
      const rows = ids ? ids.flatMap((id) => conn.runners.byId(id) ?? []) : conn.runners.unstopped();
      return rows.map(toRunner);
    },
    async recordAttempts(runner, now, records, claim) {
      if (claim) return missing();
      return { recorded: await conn.writeWhenFree(() => records.map((r) => recordOne(conn, runner, now, r))) };
    },
    claimFirings: missing,
    recordMissed: missing,
    startPending: missing,
    activeOccurrences: missing,
    takeOver: missing,
    release: missing,
    prune: missing,
  };
}

function runnerRow(r: Omit<Runner, 'stoppedAt' | 'heartbeatAt'>) {
  const { startedAt, bootId, pidNs, startTicks, ...rest } = r;
  return { ...rest, started_at: startedAt, boot_id: bootId, pid_ns: pidNs, start_ticks: startTicks };
}

/** One attempt's result, and what the delivery rules make of it if `runner` still holds the lease. */
function recordOne(conn: Connection, runner: string, now: number, rec: AttemptRecord): Recorded {
  const id = rec.occurrenceId;
  conn.occurrences.finishAttempt(id, rec.n, rec.result);
  const held = conn.occurrences.standing(id);
  if (held?.lease_owner !== runner || held.state !== 'running') {
    return { kind: 'lost', reason: `the lease passed to ${held?.lease_owner ?? 'nobody'}` };
  }
  if (rec.result.outcome === 'cancelled' && held.cancel_reason) {
    conn.occurrences.finish(id, 'failed', `cancelled: ${held.cancel_reason}`, now);
    return { kind: 'failed', reason: `cancelled: ${held.cancel_reason}` };
  }
  const failures = rec.result.outcome === 'succeeded' ? 0 : conn.occurrences.failuresSince(id);
  const next = afterAttempt(rec.spec, rec.result, failures, () => rec.random);
  if (next.kind === 'retry') conn.occurrences.waitForRetry(id, now + next.delayMs, next.reason);
  else conn.occurrences.finish(id, next.kind, next.kind === 'failed' ? next.reason : null, now);
  return next;
}

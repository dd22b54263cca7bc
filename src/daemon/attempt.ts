// One attempt of a claimed occurrence, from start to a recorded outcome: builds the
// executor's context, runs the target, writes the result and what the semantics decide
// next. Shared by the daemon and by `tock run` / `tock retry`.

import { execute as realExecute } from '../exec/index.js';
import type { OccurrenceRow, Store } from '../store/index.js';
import { isTransientStoreError } from '../store/index.js';
import { afterAttempt, type AfterAttempt } from '../semantics/delivery.js';
import { DEFAULTS, type AttemptContext, type AttemptResult, type JobSpec, type Target } from '../types.js';
import type { Clock } from './clock.js';
import { delay } from './clock.js';
import type { Logger } from './log.js';

export type Execute = (target: Target, ctx: AttemptContext, signal: AbortSignal) => Promise<AttemptResult>;

export interface AttemptDeps {
  store: Store;
  runnerId: string;
  clock: Clock;
  log: Logger;
  env: NodeJS.ProcessEnv;
  random: () => number;
  execute?: Execute;
  killGraceMs?: number;
}

export type Recorded = AfterAttempt | { kind: 'lost'; reason: string };

/** Failed attempts since this run began (a manual retry starts a fresh retry budget). */
export function failuresSince(store: Store, occurrenceId: number): number {
  let failures = 0;
  for (const a of store.occurrences.attemptSummaries(occurrenceId)) {
    if (a.trigger === 'retry' || a.trigger === 'manual') failures = 0;
    if (a.outcome === 'failed' || a.outcome === 'timeout') failures++;
  }
  return failures;
}

export async function runTarget(deps: AttemptDeps, occ: OccurrenceRow, spec: JobSpec, n: number, signal: AbortSignal) {
  const ctx: AttemptContext = {
    job: occ.job,
    occurrenceId: occ.id,
    idempotencyKey: occ.idempotency_key,
    scheduledAt: occ.scheduled_at,
    attempt: n,
    timeoutMs: spec.timeoutMs,
    outputLimit: spec.outputLimit,
    env: deps.env,
    killGraceMs: deps.killGraceMs ?? DEFAULTS.killGraceMs,
    maxRetryAfterMs: spec.backoff.maxMs,
  };
  return (deps.execute ?? realExecute)(spec.target, ctx, signal);
}

/**
 * Writes the attempt's result and the occurrence's next state in one transaction. Only
 * the lease holder may move the occurrence; a runner that lost its lease (it was judged
 * dead) still records its attempt, honestly, but leaves the occurrence to its new owner.
 * A busy or full store is retried until the write lands: a result is never dropped.
 */
export async function record(
  deps: AttemptDeps,
  occ: OccurrenceRow,
  spec: JobSpec,
  n: number,
  result: AttemptResult,
  stopping: () => boolean = () => false,
): Promise<Recorded> {
  const { store } = deps;
  for (let wait = 50; ; wait = Math.min(wait * 2, 5_000)) {
    try {
      return store.db
        .transaction((): Recorded => {
          store.occurrences.finishAttempt(occ.id, n, result);
          const current = store.occurrences.byId(occ.id);
          if (!current || current.lease_owner !== deps.runnerId || current.state !== 'running') {
            return { kind: 'lost', reason: `the lease passed to ${current?.lease_owner ?? 'nobody'}` };
          }
          const now = deps.clock.now();
          if (result.outcome === 'cancelled' && current.cancel_reason) {
            // Stopped on purpose (overlap: replace): it ends here, it is not retried.
            const reason = `cancelled: ${current.cancel_reason}`;
            store.occurrences.finish(occ.id, 'failed', reason, now);
            return { kind: 'failed', reason };
          }
          const next = afterAttempt(spec, result, failuresSince(store, occ.id), deps.random);
          if (next.kind === 'succeeded') store.occurrences.finish(occ.id, 'succeeded', null, now);
          else if (next.kind === 'failed') store.occurrences.finish(occ.id, 'failed', next.reason, now);
          else store.occurrences.waitForRetry(occ.id, now + next.delayMs, next.reason);
          return next;
        })
        .immediate();
    } catch (err) {
      if (!isTransientStoreError(err) || (stopping() && wait >= 5_000)) throw err;
      deps.log('error', `recording #${occ.id} ${occ.job}: ${(err as Error).message}; retrying in ${wait} ms`);
      await delay(wait);
    }
  }
}

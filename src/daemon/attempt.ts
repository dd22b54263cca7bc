// One attempt of a claimed occurrence, from start to a recorded outcome: builds the
// executor's context, runs the target, writes the result and what the semantics decide
// next. Shared by the daemon and by `tock run` / `tock retry`.

import { execute as realExecute } from '../exec/index.js';
import type { OccurrenceRow, Store } from '../store/index.js';
import { isTransientStoreError, storeFailure } from '../store/index.js';
import { afterAttempt, type AfterAttempt } from '../semantics/delivery.js';
import { DEFAULTS, type AttemptContext, type AttemptResult, type JobSpec, type Target } from '../types.js';
import type { Clock } from './clock.js';
import { delay } from './clock.js';
import type { Logger } from './log.js';
import { faultPoint } from './fault.js';

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
    storeId: deps.store.id,
    runnerId: deps.runnerId,
    idempotencyKey: occ.idempotency_key,
    scheduledAt: occ.scheduled_at,
    attempt: n,
    timeoutMs: spec.timeoutMs,
    outputLimit: spec.outputLimit,
    env: deps.env,
    killGraceMs: deps.killGraceMs ?? DEFAULTS.killGraceMs,
    maxRetryAfterMs: spec.backoff.maxMs,
  };
  faultPoint('after-claim'); // test-only: the claim is committed, the target not yet started
  return (deps.execute ?? realExecute)(spec.target, ctx, signal);
}

export interface Outcome {
  occ: OccurrenceRow;
  spec: JobSpec;
  n: number;
  result: AttemptResult;
}

/**
 * Writes one attempt's result and the occurrence's next state, inside the caller's
 * transaction. Only the lease holder may move the occurrence; a runner that lost its lease
 * (it was judged dead) still records its attempt, honestly, but leaves the occurrence to
 * its new owner.
 */
function recordOne(deps: AttemptDeps, { occ, spec, n, result }: Outcome): Recorded {
  const { store } = deps;
  store.occurrences.finishAttempt(occ.id, n, result);
  const current = store.occurrences.standing(occ.id);
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
  // Past failures matter only to a failure (a retry or not): a success skips the query.
  const failures = result.outcome === 'succeeded' ? 0 : failuresSince(store, occ.id);
  const next = afterAttempt(spec, result, failures, deps.random);
  if (next.kind === 'succeeded') store.occurrences.finish(occ.id, 'succeeded', null, now);
  else if (next.kind === 'failed') store.occurrences.finish(occ.id, 'failed', next.reason, now);
  else store.occurrences.waitForRetry(occ.id, now + next.delayMs, next.reason);
  return next;
}

/**
 * Work that rides in the transaction recording a batch of outcomes (the daemon's next
 * claims): it runs inside, after the outcomes are written, and may run again if the
 * transaction is retried, so it must change nothing but the store. What it returns runs
 * once the transaction has committed.
 */
export type Alongside = (batch: Outcome[]) => (() => void) | undefined;

/**
 * Records several outcomes in one transaction: one synchronous commit for all of them.
 * `more`, if given, is asked once the write lock is taken for outcomes that arrived while
 * waiting for it, and they ride in the same commit. A busy or full store is retried until
 * the write lands: a result is never dropped. Results come in the order of the outcomes.
 */
export async function recordMany(
  deps: AttemptDeps,
  first: Outcome[],
  stopping: () => boolean = () => false,
  alongside?: Alongside,
  more: () => Outcome[] = () => [],
): Promise<Recorded[]> {
  const { store } = deps;
  faultPoint('before-record'); // test-only: the target has ended, its result is not yet written
  let batch = first;
  // After the commit and before anything else of this process runs: the claims riding
  // along are applied to the daemon against the backlog they were planned on.
  const afterCommit = ({ after }: { after?: () => void }): void => {
    try {
      after?.();
    } catch (err) {
      deps.log('error', `after recording ${batch.length} result(s): ${(err as Error).message}`); // the results stand
    }
  };
  for (let wait = 50; ; wait = Math.min(wait * 2, 5_000)) {
    try {
      const committed = await store.writeWhenFree(() => {
        batch = batch.concat(more());
        return { recorded: batch.map((o) => recordOne(deps, o)), after: alongside?.(batch) };
      }, afterCommit);
      return committed.recorded;
    } catch (err) {
      // The store's own words (locked, read-only, full), not SQLite's bare "disk I/O error".
      if (!isTransientStoreError(err) || (stopping() && wait >= 5_000)) throw storeFailure(err, store.file);
      const which = batch.map((o) => `#${o.occ.id} ${o.occ.job}`).join(', ');
      deps.log('error', `recording ${which}: ${storeFailure(err, store.file).message}; retrying in ${wait} ms`);
      await delay(wait);
    }
  }
}

export async function record(
  deps: AttemptDeps,
  occ: OccurrenceRow,
  spec: JobSpec,
  n: number,
  result: AttemptResult,
  stopping?: () => boolean,
): Promise<Recorded> {
  return (await recordMany(deps, [{ occ, spec, n, result }], stopping))[0];
}

/**
 * Group commit for the daemon: outcomes that arrive while a commit is under way (or in
 * the same turn of the event loop) are written together, so many targets finishing at
 * once cost one disk sync, not one each.
 */
export class Recorder {
  private queue: { outcome: Outcome; resolve: (r: Recorded) => void; reject: (e: unknown) => void }[] = [];
  private flushing = false;

  constructor(
    private readonly deps: AttemptDeps,
    private readonly stopping: () => boolean,
    private readonly alongside?: Alongside,
  ) {}

  record(outcome: Outcome): Promise<Recorded> {
    return new Promise((resolve, reject) => {
      this.queue.push({ outcome, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      let taken = this.queue;
      this.queue = [];
      // Results that arrive while the write lock is busy join this batch when it is taken.
      const more = () => {
        const arrived = this.queue;
        this.queue = [];
        taken = taken.concat(arrived);
        return arrived.map((b) => b.outcome);
      };
      try {
        const recorded = await recordMany(this.deps, taken.map((b) => b.outcome), this.stopping, this.alongside, more);
        taken.forEach((b, i) => b.resolve(recorded[i]));
      } catch (err) {
        for (const b of taken) b.reject(err);
      }
    }
    this.flushing = false;
  }
}

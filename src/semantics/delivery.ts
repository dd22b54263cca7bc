// The delivery rules of SPEC §4 as pure functions: what a failure, a crash, a shutdown or
// a manual retry means for an occurrence of each semantics. No I/O here.

import type { AttemptResult, Backoff, Delivery, JobSpec } from '../types.js';

/** Re-runs after crashes are not failures of the target, but a poison job must not loop forever. */
export const MAX_RECOVERIES = 10;

export type AfterAttempt =
  | { kind: 'succeeded' }
  | { kind: 'retry'; delayMs: number; reason: string }
  | { kind: 'failed'; reason: string };

/**
 * What follows an attempt. `random` is injected (full jitter) so tests are exact.
 * `failures` counts the failed attempts of this run so far, this one included.
 */
export function afterAttempt(spec: JobSpec, result: AttemptResult, failures: number, random: () => number): AfterAttempt {
  if (result.outcome === 'succeeded') return { kind: 'succeeded' };
  const why = result.error ?? result.outcome;
  if (spec.delivery === 'at-most-once') return { kind: 'failed', reason: `${why} (at-most-once: never retried)` };
  if (!result.retryable) return { kind: 'failed', reason: `${why} (not retryable)` };
  if (failures > spec.retries) {
    return { kind: 'failed', reason: spec.retries === 0 ? why : `${why} (after ${spec.retries} retries)` };
  }
  return { kind: 'retry', delayMs: backoffDelay(spec.backoff, failures, random, result.retryAfterMs), reason: why };
}

/**
 * Exponential backoff with full jitter: uniform in [0, min(max, initial * multiplier^(n-1))].
 * A Retry-After from the target wins, capped at the maximum backoff.
 */
export function backoffDelay(b: Backoff, failures: number, random: () => number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), b.maxMs);
  const ceiling = Math.min(b.maxMs, b.initialMs * b.multiplier ** Math.max(0, failures - 1));
  return Math.round(random() * ceiling);
}

/** A running occurrence whose runner died: at-most-once is abandoned, the others re-run with the same key. */
export function onLeaseExpired(delivery: Delivery, recoveries: number): 'abandon' | 'rerun' | 'give-up' {
  if (delivery === 'at-most-once') return 'abandon';
  return recoveries >= MAX_RECOVERIES ? 'give-up' : 'rerun';
}

/**
 * A target stopped by a daemon shutdown: at-most-once cannot know whether the effect
 * happened, so it is abandoned; the others are handed back to run again.
 */
export function onShutdown(delivery: Delivery): 'abandon' | 'release' {
  return delivery === 'at-most-once' ? 'abandon' : 'release';
}

export type RetryVerdict = { ok: true } | { ok: false; why: string };

/** `tock retry`: which occurrences may be executed again, and when --force is needed. */
export function mayRetry(delivery: Delivery, state: string, force: boolean): RetryVerdict {
  if (state === 'succeeded') return { ok: false, why: 'it succeeded; a succeeded occurrence is never executed again' };
  if (state === 'running' || state === 'pending') return { ok: false, why: `it is ${state}; wait for it to finish` };
  const ran = state === 'failed' || state === 'abandoned';
  if (ran && delivery === 'at-most-once' && !force) {
    return {
      ok: false,
      why: `it is at-most-once and ${state}: the target may already have acted, so retrying could run it twice; pass --force to retry anyway`,
    };
  }
  return { ok: true };
}

// Runs one attempt's target: builds the executor's context from the occurrence and the
// runner, and hands it to the executor. Shared by the daemon and `tock run` / `tock retry`.

import { execute as realExecute } from '../exec/index.js';
import type { Occurrence } from '../store/backend.js';
import { DEFAULTS, type AttemptContext, type AttemptResult, type JobSpec, type Target } from '../types.js';
import { faultPoint } from './fault.js';

export type Execute = (target: Target, ctx: AttemptContext, signal: AbortSignal) => Promise<AttemptResult>;

/** Who runs the target: the store and runner its processes are marked with, and how. */
export interface TargetRunner {
  storeId: string;
  runnerId: string;
  env: NodeJS.ProcessEnv;
  execute?: Execute;
  killGraceMs?: number;
}

export async function startTarget(r: TargetRunner, occ: Occurrence, spec: JobSpec, n: number, signal: AbortSignal): Promise<AttemptResult> {
  const ctx: AttemptContext = {
    job: occ.job,
    occurrenceId: occ.id,
    storeId: r.storeId,
    runnerId: r.runnerId,
    idempotencyKey: occ.key,
    scheduledAt: occ.scheduledAt,
    attempt: n,
    timeoutMs: spec.timeoutMs,
    outputLimit: spec.outputLimit,
    env: r.env,
    killGraceMs: r.killGraceMs ?? DEFAULTS.killGraceMs,
    maxRetryAfterMs: spec.backoff.maxMs,
  };
  faultPoint('after-claim'); // test-only: the claim is committed, the target not yet started
  return (r.execute ?? realExecute)(spec.target, ctx, signal);
}

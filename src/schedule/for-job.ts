// A stored job's schedule as the schedule maths needs it: `every` grids are anchored at
// the job's start, else at its creation (to the second), so restarts never shift them.

import type { JobSpec } from '../types.js';
import { compileSchedule, jitterDelay, idempotencyKey, type CompiledSchedule, type ScheduleInput } from './index.js';

export interface JobTiming {
  spec: JobSpec;
  createdAt: number;
}

export function scheduleInputOf(job: JobTiming): ScheduleInput {
  return {
    schedule: job.spec.schedule,
    startMs: job.spec.startMs,
    endMs: job.spec.endMs,
    jitterMs: job.spec.jitterMs,
    anchorMs: job.spec.startMs ?? Math.floor(job.createdAt / 1000) * 1000,
  };
}

export function compileJob(job: JobTiming): CompiledSchedule {
  return compileSchedule(scheduleInputOf(job));
}

export interface Firing {
  /** The nominal instant: the idempotency key is built from it. */
  scheduledAt: number;
  /** When it actually fires: nominal plus the job's deterministic jitter. */
  fireAt: number;
  key: string;
}

export function firing(name: string, jitterMs: number, scheduledAt: number): Firing {
  const key = idempotencyKey(name, scheduledAt);
  return { scheduledAt, fireAt: scheduledAt + jitterDelay(key, jitterMs), key };
}

/** The next n firings strictly after `afterMs`. */
export function nextFirings(job: JobTiming, compiled: CompiledSchedule, afterMs: number, n: number): Firing[] {
  const out: Firing[] = [];
  let t = afterMs;
  while (out.length < n) {
    const next = compiled.next(t);
    if (next === null) break;
    out.push(firing(job.spec.name, job.spec.jitterMs, next));
    t = next;
  }
  return out;
}

// Firings that came due while no daemon watched: found by walking a job's schedule from its
// cursor, capped so a job that missed a year of seconds costs a bounded walk.

import type { Job } from '../store/backend.js';
import { firing, type Firing } from '../schedule/for-job.js';
import type { CompiledSchedule } from '../schedule/index.js';

/** At most this many missed firings are looked at per job after downtime. */
const MISSED_SCAN_CAP = 1_000;

/** Missed firings in (from, until] by fire time, the latest MISSED_SCAN_CAP of them. */
export function scanMissed(compiled: CompiledSchedule, job: Job, from: number, until: number): { firings: Firing[]; more: boolean } {
  const out: Firing[] = [];
  let t = from;
  for (;;) {
    const next = compiled.next(t);
    if (next === null) break;
    const f = firing(job.name, job.spec.jitterMs, next);
    if (f.fireAt > until) break;
    out.push(f);
    t = next;
    if (out.length > MISSED_SCAN_CAP) return { firings: latest(compiled, job, from, until), more: true };
  }
  return { firings: out, more: false };
}

/** Too many to walk forward: the latest ones, walking back from `until`. */
function latest(compiled: CompiledSchedule, job: Job, from: number, until: number): Firing[] {
  const found: Firing[] = [];
  let b = until + 1;
  while (found.length < MISSED_SCAN_CAP) {
    const prev = compiled.prev(b);
    if (prev === null || prev <= from) break;
    const pf = firing(job.name, job.spec.jitterMs, prev);
    if (pf.fireAt <= until) found.unshift(pf);
    b = prev;
  }
  return found;
}

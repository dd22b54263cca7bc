// Catch-up (SPEC §5): of the firings missed while no daemon ran, which to execute and
// which to record as missed, under the job's policy, limit and window. Pure.

import type { JobSpec } from '../types.js';

export interface MissedPlan<F> {
  /** To execute, oldest first. */
  execute: F[];
  /** To record as missed, with the reason. */
  missed: { firing: F; reason: string }[];
}

export function planCatchup<F extends { scheduledAt: number }>(spec: JobSpec, firings: F[], now: number): MissedPlan<F> {
  const plan: MissedPlan<F> = { execute: [], missed: [] };
  const window = spec.catchupWindowMs;
  const eligible: F[] = [];
  for (const f of firings) {
    if (window !== undefined && f.scheduledAt < now - window) {
      plan.missed.push({ firing: f, reason: `missed while no daemon ran; older than catchup_window` });
    } else {
      eligible.push(f);
    }
  }
  let keep: F[] = [];
  if (spec.catchup === 'latest') keep = eligible.slice(-1);
  else if (spec.catchup === 'all') keep = eligible.slice(-spec.catchupLimit);
  const kept = new Set(keep);
  for (const f of eligible) {
    if (kept.has(f)) continue;
    const why =
      spec.catchup === 'skip'
        ? 'missed while no daemon ran (catchup: skip)'
        : spec.catchup === 'latest'
          ? 'missed while no daemon ran; only the latest is caught up (catchup: latest)'
          : `missed while no daemon ran; beyond catchup_limit ${spec.catchupLimit}`;
    plan.missed.push({ firing: f, reason: why });
  }
  plan.execute = keep;
  plan.missed.sort((a, b) => a.firing.scheduledAt - b.firing.scheduledAt);
  return plan;
}

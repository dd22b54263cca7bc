// What applying a jobs file would change: a pure comparison of the file's jobs with the
// stored ones, so `--dry-run` and the real apply print the same plan.

import { canonicalJson, storedSpec } from './canonical.js';
import type { Job } from '../store/backend.js';
import type { JobSpec } from '../types.js';

export interface Plan {
  create: JobSpec[];
  /** scheduleChanged: the cursor moves to now so the new schedule does not replay the past. */
  update: { spec: JobSpec; before: Job; scheduleChanged: boolean }[];
  unchanged: string[];
  remove: string[];
}

export function planApply(stored: Job[], wanted: JobSpec[], prune: boolean): Plan {
  const byName = new Map(stored.map((r) => [r.name, r]));
  const plan: Plan = { create: [], update: [], unchanged: [], remove: [] };
  for (const spec of wanted) {
    const before = byName.get(spec.name);
    if (!before) plan.create.push(spec);
    else if (differs(before, spec)) plan.update.push({ spec, before, scheduleChanged: timingChanged(before.spec, spec) });
    else plan.unchanged.push(spec.name);
  }
  if (prune) {
    const names = new Set(wanted.map((s) => s.name));
    plan.remove = stored.filter((r) => !names.has(r.name)).map((r) => r.name);
  }
  return plan;
}

function differs(before: Job, spec: JobSpec): boolean {
  if (spec.paused !== undefined && spec.paused !== before.paused) return true;
  return storedSpec(spec) !== storedSpec(before.spec);
}

function timingChanged(a: JobSpec, b: JobSpec): boolean {
  const timing = (s: JobSpec) => canonicalJson([s.schedule, s.startMs ?? null, s.endMs ?? null]);
  return timing(a) !== timing(b);
}

export function planIsEmpty(p: Plan): boolean {
  return p.create.length + p.update.length + p.remove.length === 0;
}

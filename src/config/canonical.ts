// Job definitions as comparable text: what the store keeps of a spec, and JSON with sorted
// keys, so equal definitions compare equal (the jobs-file plan, the stored spec).

import type { JobSpec } from '../types.js';

/** The spec as stored: pausing is a column of its own, not part of the definition. */
export function storedSpec(spec: JobSpec): string {
  const { paused: _paused, ...rest } = spec;
  return canonicalJson(rest);
}

/** JSON with keys sorted at every level, so equal definitions compare equal as text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

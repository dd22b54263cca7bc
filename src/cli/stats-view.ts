// `tock stats` as numbers: per job runs by state, success rate, duration and lateness
// percentiles, retries and last success, as one JSON document (the CLI's --json and
// /api/v1/stats) and as a table. Percentiles come from each job's latest SAMPLES finished
// attempts, so the work per job is bounded however long its history.

import { STATES, type Backend, type JobStats } from '../store/backend.js';
import { escapeLine } from '../escape.js';
import { durationText, iso, when } from './io.js';
import { table } from './table.js';

export const SAMPLES = 1000;

/** Nearest-rank percentile of ascending values; null when there are none. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

function jobStatsJson(s: JobStats): Record<string, unknown> {
  const runs = Object.fromEntries(STATES.map((st) => [st, s.byState[st] ?? 0]));
  const ended = runs.succeeded + runs.failed + runs.abandoned;
  const durations = [...s.durationsMs].sort((a, b) => a - b);
  const lateness = [...s.latenessMs].sort((a, b) => a - b);
  return {
    job: s.job,
    runs,
    total: Object.values(runs).reduce((a, b) => a + b, 0),
    // Of the occurrences that ran to an end: skipped and missed ones never ran.
    success_rate: ended === 0 ? null : runs.succeeded / ended,
    duration_ms: { p50: percentile(durations, 50), p95: percentile(durations, 95), max: durations.length ? durations[durations.length - 1] : null },
    lateness_ms: { p50: percentile(lateness, 50), p99: percentile(lateness, 99) },
    samples: durations.length,
    retries: s.retries,
    // Lost claims are not written anywhere: only a daemon's /metrics counts them.
    duplicates_avoided: null,
    last_success: iso(s.lastSuccessAt),
  };
}

/** `tock stats --json` and `/api/v1/stats`. */
export async function statsDocument(backend: Backend, job: string | undefined, sinceMs: number | undefined): Promise<Record<string, unknown>> {
  const rows = await backend.jobStats({ job, sinceMs, samples: SAMPLES });
  return { since: iso(sinceMs), jobs: rows.map(jobStatsJson) };
}

const ms = (v: unknown) => (v === null ? '-' : durationText(v as number));

export function statsText(doc: Record<string, unknown>): string {
  const jobs = doc.jobs as ReturnType<typeof jobStatsJson>[];
  if (jobs.length === 0) return 'no occurrences yet';
  const rows = jobs.map((j) => {
    const runs = j.runs as Record<string, number>;
    const d = j.duration_ms as Record<string, number | null>;
    const l = j.lateness_ms as Record<string, number | null>;
    const other = (j.total as number) - runs.succeeded - runs.failed;
    return [
      escapeLine(j.job as string),
      String(j.total),
      String(runs.succeeded),
      String(runs.failed),
      String(other),
      j.success_rate === null ? '-' : `${((j.success_rate as number) * 100).toFixed(1)}%`,
      `${ms(d.p50)} / ${ms(d.p95)} / ${ms(d.max)}`,
      `${ms(l.p50)} / ${ms(l.p99)}`,
      String(j.retries),
      j.last_success ? when(Date.parse(j.last_success as string)) : '-',
    ];
  });
  const head = ['JOB', 'RUNS', 'OK', 'FAILED', 'OTHER', 'SUCCESS', 'DURATION p50/p95/max', 'LATENESS p50/p99', 'RETRIES', 'LAST SUCCESS'];
  const note = 'duplicates avoided: not recorded in the store; a daemon with --listen counts them (tock_duplicates_avoided_total)';
  return `${table(head, rows)}\n\n${note}`;
}

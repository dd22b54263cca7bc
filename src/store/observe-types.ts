// The domain types of the store's observability reads (issue 15: metrics, health, `tock
// stats`), beside domain.ts: what /metrics and `tock stats` need, aggregated by the backend.

import type { OccurrenceState } from './domain.js';

/** One job's totals over all retained history, for /metrics: one aggregate read per scrape. */
export interface JobTotals {
  job: string;
  byState: Partial<Record<OccurrenceState, number>>;
  /** When its latest successful occurrence finished. */
  lastSuccessAt: number | null;
  /** Its next firing as last remembered (null: none, paused, done, or the job is gone). */
  nextFireAt: number | null;
}

export interface StatsFilter {
  job?: string;
  /** Only occurrences scheduled at or after this instant. */
  sinceMs?: number;
  /** At most this many of each job's latest finished attempts are returned as samples. */
  samples: number;
}

/** One job's history for `tock stats`; percentiles are computed by the caller from the samples. */
export interface JobStats {
  job: string;
  byState: Partial<Record<OccurrenceState, number>>;
  /** Attempts after the first (backoff, recovery and manual retries). */
  retries: number;
  lastSuccessAt: number | null;
  /** Finished attempts' durations, latest first. */
  durationsMs: number[];
  /** Scheduled first attempts: started minus scheduled, latest first. */
  latenessMs: number[];
}

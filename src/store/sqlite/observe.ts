// The SQLite side of the observability reads (issue 15): per-job totals for /metrics, the
// history `tock stats` summarises, and the health probe. Aggregates only: a scrape reads one
// row per job and state, never the occurrences themselves.

import type { JobStats, JobTotals, OccurrenceState, StatsFilter } from '../backend.js';
import { StoreError } from '../backend.js';
import type { Connection } from './connection.js';
import { storeFailure } from './failure.js';
import { Statements } from './statements.js';

const statements = new WeakMap<Connection, Statements>();
const sql = (conn: Connection) => {
  let s = statements.get(conn);
  if (!s) statements.set(conn, (s = new Statements(conn.db)));
  return s;
};

interface CountRow {
  job: string;
  state: OccurrenceState;
  n: number;
  last_success: number | null;
}

const TOTALS = `SELECT job, state, COUNT(*) AS n, MAX(CASE WHEN state = 'succeeded' THEN finished_at END) AS last_success
  FROM occurrences GROUP BY job, state`;
const NEXT = `SELECT name, CASE WHEN next_version = version AND paused = 0 AND done_at IS NULL THEN next_at END AS next_at FROM jobs`;

const FILTER = `o.scheduled_at >= @since AND (@job IS NULL OR o.job = @job)`;
const COUNTS = `SELECT o.job AS job, o.state AS state, COUNT(*) AS n,
  MAX(CASE WHEN o.state = 'succeeded' THEN o.finished_at END) AS last_success
  FROM occurrences o WHERE ${FILTER} GROUP BY o.job, o.state`;
const RETRIES = `SELECT o.job AS job, COUNT(*) AS n FROM attempts a JOIN occurrences o ON o.id = a.occurrence_id
  WHERE a.n > 1 AND ${FILTER} GROUP BY o.job`;
// Lateness only for a scheduled firing's first attempt: a catch-up or manual run is late by design.
const SAMPLES = `SELECT job, duration, lateness FROM (
  SELECT o.job AS job, a.finished_at - a.started_at AS duration,
    CASE WHEN a.n = 1 AND o.origin = 'schedule' THEN a.started_at - o.scheduled_at END AS lateness,
    ROW_NUMBER() OVER (PARTITION BY o.job ORDER BY a.started_at DESC, a.occurrence_id DESC, a.n DESC) AS r
  FROM attempts a JOIN occurrences o ON o.id = a.occurrence_id
  WHERE a.finished_at IS NOT NULL AND ${FILTER}
) WHERE r <= @samples ORDER BY job, r`;

/** Counts by job and state folded into one entry per job, in name order. */
function fold<T extends { byState: JobTotals['byState']; lastSuccessAt: number | null }>(rows: CountRow[], make: (job: string) => T): Map<string, T> {
  const out = new Map<string, T>();
  for (const r of rows) {
    let e = out.get(r.job);
    if (!e) out.set(r.job, (e = make(r.job)));
    e.byState[r.state] = r.n;
    if (r.last_success !== null) e.lastSuccessAt = r.last_success;
  }
  return out;
}

export function jobTotals(conn: Connection): JobTotals[] {
  return conn.read(() => {
    const totals = fold(sql(conn).get(TOTALS).all() as CountRow[], (job): JobTotals => ({ job, byState: {}, lastSuccessAt: null, nextFireAt: null }));
    for (const j of sql(conn).get(NEXT).all() as { name: string; next_at: number | null }[]) {
      const e = totals.get(j.name) ?? { job: j.name, byState: {}, lastSuccessAt: null, nextFireAt: null };
      e.nextFireAt = j.next_at;
      totals.set(j.name, e);
    }
    return [...totals.values()].sort((a, b) => (a.job < b.job ? -1 : a.job > b.job ? 1 : 0));
  });
}

export function jobStats(conn: Connection, f: StatsFilter): JobStats[] {
  const args = { since: f.sinceMs ?? Number.MIN_SAFE_INTEGER, job: f.job ?? null, samples: f.samples };
  return conn.read(() => {
    const s = sql(conn);
    const stats = fold(s.get(COUNTS).all(args) as CountRow[], (job): JobStats => ({ job, byState: {}, retries: 0, lastSuccessAt: null, durationsMs: [], latenessMs: [] }));
    for (const r of s.get(RETRIES).all(args) as { job: string; n: number }[]) {
      const e = stats.get(r.job);
      if (e) e.retries = r.n;
    }
    for (const r of s.get(SAMPLES).all(args) as { job: string; duration: number; lateness: number | null }[]) {
      const e = stats.get(r.job);
      if (!e) continue;
      e.durationsMs.push(r.duration);
      if (r.lateness !== null) e.latenessMs.push(r.lateness);
    }
    return [...stats.values()].sort((a, b) => (a.job < b.job ? -1 : a.job > b.job ? 1 : 0));
  });
}

/** Takes and lets go of the write lock, looking every 10 ms on the event loop until waitMs has passed. */
export async function probe(conn: Connection, waitMs: number): Promise<void> {
  const until = performance.now() + waitMs;
  for (;;) {
    let free: boolean;
    try {
      free = conn.writeLockFree();
    } catch (err) {
      throw storeFailure(err, conn.file);
    }
    if (free) return;
    if (performance.now() >= until) {
      throw new StoreError(`the store ${conn.file} is locked by another process (its write lock was not free for ${waitMs} ms)`, true, 'SQLITE_BUSY');
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

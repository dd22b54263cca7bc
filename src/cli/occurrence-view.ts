// How occurrences and attempts look to a user: SPEC §6's history JSON and the readable lines.

import type { AttemptRow, OccurrenceRow, Store } from '../store/index.js';
import { escapeLine } from '../escape.js';
import { durationText, iso, stateColor } from './io.js';

export function attemptJson(a: AttemptRow): Record<string, unknown> {
  return {
    n: a.n,
    trigger: a.trigger,
    started_at: iso(a.started_at),
    finished_at: iso(a.finished_at),
    duration_ms: a.finished_at === null ? null : a.finished_at - a.started_at,
    outcome: a.outcome,
    exit_code: a.exit_code,
    signal: a.signal,
    http_status: a.http_status,
    error: a.error,
    output_bytes: a.output_bytes,
    output_truncated: a.output_truncated === 1,
    runner: a.runner,
  };
}

export function occurrenceJson(o: OccurrenceRow, attempts: AttemptRow[]): Record<string, unknown> {
  return {
    id: o.id,
    job: o.job,
    scheduled_at: iso(o.scheduled_at),
    fire_at: iso(o.fire_at),
    idempotency_key: o.idempotency_key,
    trigger: o.trigger,
    origin: o.origin,
    state: o.state,
    delivery: o.delivery,
    reason: o.reason,
    created_at: iso(o.created_at),
    finished_at: iso(o.finished_at),
    next_attempt_at: iso(o.next_attempt_at),
    lease_owner: o.lease_owner,
    attempts: attempts.map(attemptJson),
  };
}

export function withAttempts(store: Store, rows: OccurrenceRow[]) {
  return rows.map((o) => ({ occ: o, attempts: store.occurrences.attemptSummaries(o.id) }));
}

/** `exit 3`, `HTTP 503`, `SIGKILL`, or the error, whichever says most; escaped for a terminal. */
export function attemptResultText(a: AttemptRow): string {
  const parts: string[] = [];
  if (a.http_status !== null) parts.push(`HTTP ${a.http_status}`);
  else if (a.exit_code !== null) parts.push(`exit ${a.exit_code}`);
  else if (a.signal) parts.push(a.signal);
  // The error adds to the status unless it only repeats it.
  if (a.error && a.outcome !== 'succeeded' && !/^(exit status \d+|HTTP \d+[^(]*)$/.test(a.error)) parts.push(escapeLine(a.error));
  return parts.join(': ') || a.outcome;
}

export function attemptLine(a: AttemptRow): string {
  const took = a.finished_at === null ? 'running' : durationText(a.finished_at - a.started_at);
  return `attempt ${a.n} (${a.trigger}) ${stateColor(a.outcome === 'timeout' ? 'failed' : a.outcome).replace('failed', a.outcome)} after ${took}: ${attemptResultText(a)}`;
}

export { stateColor };

// How occurrences and attempts look to a user: SPEC §6's history JSON and the readable lines.

import type { Attempt, Occurrence } from '../store/backend.js';
import { escapeLine } from '../escape.js';
import { durationText, iso, stateColor } from './io.js';

export function attemptJson(a: Attempt): Record<string, unknown> {
  return {
    n: a.n,
    trigger: a.trigger,
    started_at: iso(a.startedAt),
    finished_at: iso(a.finishedAt),
    duration_ms: a.finishedAt === null ? null : a.finishedAt - a.startedAt,
    outcome: a.outcome,
    exit_code: a.exitCode,
    signal: a.signal,
    http_status: a.httpStatus,
    error: a.error,
    output_bytes: a.outputBytes,
    output_truncated: a.outputTruncated,
    runner: a.runner,
  };
}

export function occurrenceJson(o: Occurrence, attempts: Attempt[]): Record<string, unknown> {
  return {
    id: o.id,
    job: o.job,
    scheduled_at: iso(o.scheduledAt),
    fire_at: iso(o.fireAt),
    idempotency_key: o.key,
    trigger: o.trigger,
    origin: o.origin,
    state: o.state,
    delivery: o.delivery,
    reason: o.reason,
    created_at: iso(o.createdAt),
    finished_at: iso(o.finishedAt),
    next_attempt_at: iso(o.nextAttemptAt),
    lease_owner: o.leaseOwner,
    attempts: attempts.map(attemptJson),
  };
}

/** `exit 3`, `HTTP 503`, `SIGKILL`, or the error, whichever says most; escaped for a terminal. */
export function attemptResultText(a: Attempt): string {
  const parts: string[] = [];
  if (a.httpStatus !== null) parts.push(`HTTP ${a.httpStatus}`);
  else if (a.exitCode !== null) parts.push(`exit ${a.exitCode}`);
  else if (a.signal) parts.push(a.signal);
  // The error adds to the status unless it only repeats it.
  if (a.error && a.outcome !== 'succeeded' && !/^(exit status \d+|HTTP \d+[^(]*)$/.test(a.error)) parts.push(escapeLine(a.error));
  return parts.join(': ') || a.outcome;
}

export function attemptLine(a: Attempt): string {
  const took = a.finishedAt === null ? 'running' : durationText(a.finishedAt - a.startedAt);
  return `attempt ${a.n} (${a.trigger}) ${stateColor(a.outcome === 'timeout' ? 'failed' : a.outcome).replace('failed', a.outcome)} after ${took}: ${attemptResultText(a)}`;
}

export { stateColor };

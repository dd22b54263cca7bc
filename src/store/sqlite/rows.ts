// Rows as SQLite returns them, mapped to the domain types of backend.ts. Nothing outside
// src/store/ sees a row.

import type { Attempt, Occurrence, Runner } from '../backend.js';
import type { AttemptRow, OccurrenceRow } from './occurrences.js';
import type { RunnerRow } from './runners.js';

export function toOccurrence(r: OccurrenceRow): Occurrence {
  return {
    id: r.id,
    job: r.job,
    key: r.idempotency_key,
    scheduledAt: r.scheduled_at,
    fireAt: r.fire_at,
    origin: r.origin,
    trigger: r.trigger,
    state: r.state,
    delivery: r.delivery,
    jobVersion: r.job_version,
    attempts: r.attempts,
    recoveries: r.recoveries,
    nextAttemptAt: r.next_attempt_at,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at,
    cancelReason: r.cancel_reason,
    reason: r.reason,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  };
}

export function toAttempt(r: AttemptRow): Attempt {
  const a: Attempt = {
    occurrenceId: r.occurrence_id,
    n: r.n,
    trigger: r.trigger,
    runner: r.runner,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    outcome: r.outcome,
    exitCode: r.exit_code,
    signal: r.signal,
    httpStatus: r.http_status,
    error: r.error,
    outputTruncated: r.output_truncated === 1,
    outputBytes: r.output_bytes,
  };
  if (r.output !== undefined) a.output = r.output;
  return a;
}

export function toRunner(r: RunnerRow): Runner {
  return {
    id: r.id,
    kind: r.kind,
    host: r.host,
    pid: r.pid,
    version: r.version,
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
    stoppedAt: r.stopped_at,
    detail: r.detail,
    bootId: r.boot_id,
    pidNs: r.pid_ns,
    startTicks: r.start_ticks,
  };
}

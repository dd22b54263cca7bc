// A notification as plain data (what happened to which occurrence), built by whoever
// records the result, and the three forms channels get it in: the JSON document (http
// body, shell stdin), the TOCK_* environment (shell), and its key.

import { TailBuffer } from '../exec/output.js';
import type { NotifyEvent } from '../types.js';

/** How much of the occurrence's output a notification carries (the tail). */
export const OUTPUT_TAIL_BYTES = 4096;
/** A reason placed in the environment or a subject is cut to this many characters. */
const REASON_CHARS = 1000;

export interface NotificationEvent {
  /** The notification's own idempotency key (see notificationKey). */
  key: string;
  event: NotifyEvent;
  job: string;
  occurrenceId: number;
  /** The occurrence's idempotency key. */
  occurrenceKey: string;
  scheduledAt: number;
  /** When the event happened (the result recorded, the lateness or long run noticed). */
  at: number;
  /** The occurrence's state then: failed, abandoned, missed, succeeded, pending, running. */
  state: string;
  reason?: string;
  attempts: number;
  exitCode?: number;
  signal?: string;
  httpStatus?: number;
  /** Consecutive failures: including this one for failed/abandoned, the streak just ended for recovered. */
  failures?: number;
  /** The last attempt's output; cut to its last OUTPUT_TAIL_BYTES in every message. */
  output?: string;
}

/** One notification per occurrence, event and channel (its index in the job's notify: list). */
export function notificationKey(occurrenceKey: string, event: NotifyEvent, channel: number): string {
  return `${occurrenceKey}#notify:${event}:${channel}`;
}

/** The event as the JSON document a webhook receives and a shell command reads on stdin (snake_case, ISO instants). */
export function toPayload(e: NotificationEvent): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    key: e.key,
    event: e.event,
    job: e.job,
    occurrence_id: e.occurrenceId,
    idempotency_key: e.occurrenceKey,
    scheduled_at: iso(e.scheduledAt),
    at: iso(e.at),
    state: e.state,
    reason: e.reason ?? null,
    attempts: e.attempts,
    exit_code: e.exitCode ?? null,
    signal: e.signal ?? null,
    http_status: e.httpStatus ?? null,
    consecutive_failures: e.failures ?? null,
    output: e.output === undefined ? null : outputTail(e.output),
  };
  return payload;
}

/** The TOCK_* variables a shell channel gets (the output is on stdin only: the environment is small). */
export function toEnv(e: NotificationEvent): Record<string, string> {
  const env: Record<string, string | number | undefined> = {
    TOCK_EVENT: e.event,
    TOCK_JOB: e.job,
    TOCK_OCCURRENCE_ID: e.occurrenceId,
    TOCK_OCCURRENCE_KEY: e.occurrenceKey,
    TOCK_NOTIFICATION_KEY: e.key,
    TOCK_SCHEDULED_AT: iso(e.scheduledAt),
    TOCK_EVENT_AT: iso(e.at),
    TOCK_STATE: e.state,
    TOCK_REASON: e.reason === undefined ? undefined : shortReason(e.reason),
    TOCK_ATTEMPTS: e.attempts,
    TOCK_EXIT_STATUS: e.exitCode,
    TOCK_SIGNAL: e.signal,
    TOCK_HTTP_STATUS: e.httpStatus,
    TOCK_CONSECUTIVE_FAILURES: e.failures,
  };
  const out: Record<string, string> = {};
  // A NUL cannot be passed in an environment entry; the rest is data, passed as it is.
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = String(v).replace(/\0/g, '');
  return out;
}

/** The last OUTPUT_TAIL_BYTES of the output, on a UTF-8 boundary, after a marker when cut. */
export function outputTail(output: string): string {
  const tail = new TailBuffer(OUTPUT_TAIL_BYTES);
  tail.push(Buffer.from(output, 'utf8'));
  return tail.text();
}

export function shortReason(reason: string): string {
  return reason.length > REASON_CHARS ? `${reason.slice(0, REASON_CHARS)}...` : reason;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

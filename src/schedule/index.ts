// The schedule API the rest of tock uses: a job's schedule, window and anchor become
// a CompiledSchedule that answers "next nominal fire after t" and "last one before t",
// plus the occurrence's idempotency key and its deterministic jitter. Pure: time is
// always passed in. This folder is the only code in tock that imports cron-parser or luxon.

import { createRequire } from 'node:module';
import type * as Crypto from 'node:crypto';
import { usageError } from '../errors.js';
import type { Schedule } from '../types.js';
import { cronMatcher, parseCron, type ParsedCron } from './cron.js';
import { formatDuration } from './duration.js';
import { zoneOffsets } from './offsets.js';
import { checkTimezone } from './zone.js';
import { ZonedCron } from './zoned.js';

export { parseDuration, parsePositiveDuration, parseInterval, formatDuration } from './duration.js';
export { checkTimezone, parseInstant, formatInstant } from './zone.js';
export { parseCron, isWallClock, MACROS, type ParsedCron } from './cron.js';

export interface ScheduleInput {
  schedule: Schedule;
  /** Window: nothing fires before start or after end (both inclusive). */
  startMs?: number;
  endMs?: number;
  jitterMs: number;
  /** For `every`: startMs if set, else the job's creation instant. */
  anchorMs: number;
}

export interface CompiledSchedule {
  /** Smallest nominal fire instant strictly after afterMs, inside the window; null if none ever. */
  next(afterMs: number): number | null;
  /** Largest nominal fire instant strictly before beforeMs, inside the window. */
  prev(beforeMs: number): number | null;
}

export function compileSchedule(input: ScheduleInput): CompiledSchedule {
  return windowed(unwindowed(input.schedule, input.anchorMs), input.startMs, input.endMs);
}

/** Up to n nominal fire instants strictly after fromMs, oldest first. */
export function nextFires(input: ScheduleInput, fromMs: number, n: number): number[] {
  const schedule = compileSchedule(input);
  const out: number[] = [];
  for (let t = schedule.next(fromMs); t !== null && out.length < n; t = schedule.next(t)) out.push(t);
  return out;
}

/**
 * An occurrence's identity: the job's name and the nominal instant, nothing else. The `@`
 * marks keys tock makes; a key a person gives may not contain one (`tock run`).
 */
export function idempotencyKey(jobName: string, scheduledAtMs: number): string {
  return `${jobName}@${isoInstant(scheduledAtMs)}`;
}

let lastInstant = NaN;
let lastIso = '';

/**
 * toISOString, remembering the last instant: jobs due together share it, and a daemon keys
 * every firing it schedules (20,000 due at once: 0.7 us each -> a string concatenation).
 */
function isoInstant(ms: number): string {
  if (ms !== lastInstant) {
    lastIso = new Date(ms).toISOString();
    lastInstant = ms;
  }
  return lastIso;
}

/** The delay in [0, jitterMs) every daemon computes for this key (SPEC §2). */
export function jitterDelay(key: string, jitterMs: number): number {
  const range = Math.floor(jitterMs);
  if (!(range > 0)) return 0;
  const fraction = crypto().createHash('sha256').update(key).digest().readUIntBE(0, 6) / 2 ** 48;
  return Math.floor(fraction * range);
}

let cryptoModule: typeof Crypto | undefined;

/** node:crypto on first use: loading it costs ~4 ms of every start-up, and only jitter needs it. */
function crypto(): typeof Crypto {
  return (cryptoModule ??= createRequire(import.meta.url)('node:crypto') as typeof Crypto);
}

/** One line for humans: `cron 30 2 * * * (Europe/Berlin)`, `every 5m`, `at 2026-12-01T02:30 (UTC)`. */
export function describeSchedule(s: Schedule): string {
  switch (s.kind) {
    case 'cron':
      return `cron ${s.expr.trim()} (${s.timezone})`;
    case 'every':
      return `every ${formatDuration(s.everyMs)}`;
    case 'at':
      return `at ${s.expr.trim()} (${s.timezone})`;
  }
}

function unwindowed(schedule: Schedule, anchorMs: number): CompiledSchedule {
  switch (schedule.kind) {
    case 'cron':
      return compileCron(parseCron(schedule.expr), schedule.timezone);
    case 'every':
      return every(anchorMs, schedule.everyMs);
    case 'at':
      return at(schedule.atMs);
  }
}

function compileCron(cron: ParsedCron, timezone: string): CompiledSchedule {
  return new ZonedCron(cronMatcher(cron), cron.wallClock, zoneOffsets(checkTimezone(timezone)));
}

/** anchor + k * interval for k >= 0: elapsed time, so DST and restarts never move it. */
function every(anchor: number, interval: number): CompiledSchedule {
  if (!(interval > 0)) throw usageError(`every must be greater than zero, got ${interval} ms`);
  return {
    next(after) {
      const k = after < anchor ? 0 : Math.floor((after - anchor) / interval) + 1;
      return anchor + k * interval;
    },
    prev(before) {
      if (before <= anchor) return null;
      return anchor + (Math.ceil((before - anchor) / interval) - 1) * interval;
    },
  };
}

function at(instant: number): CompiledSchedule {
  return {
    next: (after) => (instant > after ? instant : null),
    prev: (before) => (instant < before ? instant : null),
  };
}

function windowed(inner: CompiledSchedule, start: number | undefined, end: number | undefined): CompiledSchedule {
  if (start === undefined && end === undefined) return inner;
  return {
    next(after) {
      const t = inner.next(start === undefined ? after : Math.max(after, start - 1));
      return t === null || (end !== undefined && t > end) ? null : t;
    },
    prev(before) {
      const t = inner.prev(end === undefined ? before : Math.min(before, end + 1));
      return t === null || (start !== undefined && t < start) ? null : t;
    },
  };
}

// When a job fires: its schedule (exactly one of cron, every and at, read in the job's
// time zone) and its window (start and end, given flat or as a `window:` mapping).

import { parseCron, parseInstant, parseInterval } from '../schedule/index.js';
import type { Schedule } from '../types.js';
import { isMapping, kind, type Reader } from './reader.js';

export function readSchedule(r: Reader, timezone: string): Schedule | undefined {
  const given = ['cron', 'every', 'at'].filter((f) => r.has(f));
  if (given.length !== 1) {
    return r.fail(
      given[1] ?? 'cron',
      given.length === 0 ? 'a job needs a schedule: one of cron, every or at' : `give one of cron, every or at, not ${given.join(' and ')}`,
    );
  }
  const field = given[0];
  if (field === 'cron') {
    const expr = r.parse('cron', (v) => (parseCron(v), v));
    return expr === undefined ? undefined : { kind: 'cron', expr, timezone };
  }
  if (field === 'every') {
    const everyMs = r.parse('every', parseInterval);
    return everyMs === undefined ? undefined : { kind: 'every', expr: String(r.value('every')).trim(), everyMs, timezone };
  }
  const atMs = r.parse('at', (v) => parseInstant(v, timezone));
  return atMs === undefined ? undefined : { kind: 'at', expr: String(r.value('at')).trim(), atMs, timezone };
}

export function readWindow(r: Reader, timezone: string): { startMs?: number; endMs?: number } {
  let start: unknown = r.value('start');
  let end: unknown = r.value('end');
  const window = r.value('window');
  if (window !== undefined) {
    if (!isMapping(window)) {
      r.fail('window', `expected a mapping with start and/or end, got ${kind(window)}`);
    } else {
      start ??= window.start;
      end ??= window.end;
    }
  }
  const instant = (field: string, v: unknown) =>
    v === undefined || v === null ? undefined : r.parseValue(field, v, (s) => parseInstant(s, timezone));
  const startMs = instant('start', start);
  const endMs = instant('end', end);
  if (startMs !== undefined && endMs !== undefined && endMs < startMs) r.fail('end', 'end is before start');
  return { startMs, endMs };
}

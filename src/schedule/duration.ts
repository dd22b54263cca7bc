// Durations: the one reading of every duration a user writes (`every`, `timeout`,
// `backoff`, `jitter`, `catchup_window`), ISO-8601 or the short form, and the one
// way tock prints them back. Values are milliseconds of elapsed time.

import { usageError } from '../errors.js';
import { ECHO_LIMIT, quote } from '../escape.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Ten years of elapsed time; anything longer is a typo, not a schedule. */
const MAX_MS = 3650 * DAY;

const FORMS = 'use ISO-8601 (PT5M) or a short form such as 250ms, 90s, 5m, 1h30m, 2d';

const N = '(\\d+(?:[.,]\\d+)?)';
// Years and months are matched only to be refused with their own message.
const ISO = new RegExp(`^P(?:${N}Y)?(?:${N}M)?(?:${N}W)?(?:${N}D)?(?:T(?:${N}H)?(?:${N}M)?(?:${N}S)?)?$`, 'i');
const S = '(\\d+(?:\\.\\d+)?)';
// `m(?!s)` keeps the minutes group from eating the `m` of `ms`.
const SHORT = new RegExp(`^(?:${S}d)?(?:${S}h)?(?:${S}m(?!s))?(?:${S}s)?(?:${S}ms)?$`, 'i');
const BARE_NUMBER = /^\d+(?:\.\d+)?$/;

/** Reads a duration; throws a usage error naming the text and the accepted forms. */
export function parseDuration(text: string): number {
  const written = text.trim();
  const negative = written.startsWith('-');
  const body = negative ? written.slice(1) : written;
  const ms = readIso(written, body) ?? readShort(body);
  if (ms === null) {
    if (BARE_NUMBER.test(body)) {
      const n = body.length <= ECHO_LIMIT ? body : '90'; // the example stays short whatever was typed
      throw usageError(`${quote(written)} has no unit: write e.g. ${n}ms, ${n}s or ${n}m`);
    }
    throw usageError(`${quote(written)} is not a duration: ${FORMS}`);
  }
  if (negative) throw usageError(`${quote(written)} is negative: a duration must be zero or more`);
  if (ms > MAX_MS) throw usageError(`${quote(written)} is out of range: a duration can be at most 10 years (3650d)`);
  return ms;
}

/** As parseDuration, for values where zero makes no sense (`every`, `timeout`). */
export function parsePositiveDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms === 0) throw usageError(`${quote(text.trim())} must be greater than zero`);
  return ms;
}

/** The shortest `every` (SPEC §2): a finer interval floods the store and the log, it schedules nothing useful. */
export const MIN_EVERY_MS = SECOND;

/** An `every` interval: positive, and at least MIN_EVERY_MS. */
export function parseInterval(text: string): number {
  const ms = parsePositiveDuration(text);
  if (ms < MIN_EVERY_MS) {
    throw usageError(`"${text.trim()}" is shorter than 1s, the minimum for every: write 1s or more (a 6-field cron also fires each second)`);
  }
  return ms;
}

/** The short form: 90000 -> `1m30s`, 250 -> `250ms`, 0 -> `0s`. */
export function formatDuration(ms: number): string {
  if (ms < 0) return `-${formatDuration(-ms)}`;
  let rest = Math.round(ms);
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * size;
  }
  return out;
}

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', DAY],
  ['h', HOUR],
  ['m', MINUTE],
  ['s', SECOND],
  ['ms', 1],
];

function readIso(written: string, body: string): number | null {
  const m = ISO.exec(body);
  // `P` alone, or a `T` with nothing after it, is not a duration.
  if (!m || m.slice(1).every((g) => g === undefined) || /T$/i.test(body)) return null;
  const [, years, months, weeks, days, hours, minutes, seconds] = m;
  if (years !== undefined || months !== undefined) {
    throw usageError(`${quote(written)} uses years or months, whose length varies: use days instead (e.g. P30D)`);
  }
  return total([
    [weeks, 7 * DAY],
    [days, DAY],
    [hours, HOUR],
    [minutes, MINUTE],
    [seconds, SECOND],
  ]);
}

function readShort(body: string): number | null {
  const m = SHORT.exec(body);
  if (!m || m.slice(1).every((g) => g === undefined)) return null;
  const [, days, hours, minutes, seconds, millis] = m;
  return total([
    [days, DAY],
    [hours, HOUR],
    [minutes, MINUTE],
    [seconds, SECOND],
    [millis, 1],
  ]);
}

function total(parts: Array<[string | undefined, number]>): number {
  let ms = 0;
  for (const [amount, size] of parts) {
    if (amount !== undefined) ms += Number(amount.replace(',', '.')) * size;
  }
  return Math.round(ms);
}

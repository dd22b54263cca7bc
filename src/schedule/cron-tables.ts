// The look-up tables a CronMatcher searches with, built once per field (or pair of day
// fields) and shared: for each value the next and previous allowed one, and for each shape
// of month the days that match, with Vixie's OR of day-of-month and day-of-week.

import type { ParsedCron } from './cron.js';

/** [next, prev] tables of a field whose values lie in [0, size). */
export function valueTables(values: readonly number[], size: number): readonly [Int8Array, Int8Array] {
  const set = has(values, size);
  const next = new Int8Array(size + 1).fill(-1);
  const prev = new Int8Array(size + 1).fill(-1);
  for (let v = size - 1, n = -1; v >= 0; v--) {
    if (set[v]) n = v;
    next[v] = n;
  }
  for (let v = 0, q = -1; v <= size; v++) {
    if (set[v]) q = v;
    prev[v] = q;
  }
  return [next, prev];
}

/** Matching days (bit d-1) for each month shape: index = weekday of the 1st * 4 + length - 28. */
export function dayMasks(p: ParsedCron): Int32Array {
  // Vixie: OR when both fields are restricted, AND when either starts with `*`.
  const and = p.domStar || p.dowStar;
  const masks = new Int32Array(7 * 4);
  const weekdays = has(p.dayOfWeek, 7);
  const lastWeekdays = has(p.lastDayOfWeek, 7);
  let listed = 0;
  for (const d of p.dayOfMonth) listed |= 1 << (d - 1);
  for (let length = 28; length <= 31; length++) {
    const dom = (listed & (length === 31 ? -1 : (1 << length) - 1)) | (p.lastDayOfMonth ? 1 << (length - 1) : 0);
    for (let first = 0; first < 7; first++) {
      const dow = weekdayMask(weekdays, lastWeekdays, p.nthDayOfWeek, first, length);
      masks[first * 4 + length - 28] = and ? dom & dow : dom | dow;
    }
  }
  return masks;
}

function has(values: readonly number[], size: number): boolean[] {
  const set = new Array<boolean>(size).fill(false);
  for (const v of values) set[v] = true;
  return set;
}

/** Days of a month (bit d-1) that the day-of-week field matches, for one month shape. */
function weekdayMask(weekdays: boolean[], lastWeekdays: boolean[], nth: number, first: number, length: number): number {
  let bits = 0;
  for (let d = 1, w = first; d <= length; d++, w = w === 6 ? 0 : w + 1) {
    if ((weekdays[w] && (nth === 0 || Math.ceil(d / 7) === nth)) || (lastWeekdays[w] && d + 7 > length)) bits |= 1 << (d - 1);
  }
  return bits;
}

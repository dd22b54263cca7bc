// A parsed cron expression as a matcher of wall-clock times: its look-up tables (shared
// with every matcher of the same fields) and the searches of cron-search.ts over them. It
// knows nothing of time zones: zoned.ts turns wall-clock matches into instants under the
// DST rules of SPEC §2.

import { daysFromCivil, daysInMonth, weekday } from './calendar.js';
import type { ParsedCron } from './cron.js';
import { EXPANDED, remember, type WithExpanded } from './cron-expand.js';
import { nextLocal, prevLocal } from './cron-search.js';
import { dayMasks, valueTables } from './cron-tables.js';

const dayMaskCache = new Map<string, Int32Array>();

/**
 * Finds matching wall-clock times. Local times are encoded as milliseconds in the UTC
 * calendar (2026-03-08 02:30 local = Date.UTC(2026, 2, 8, 2, 30)).
 */
export class CronMatcher {
  // next*[v] = smallest allowed value >= v (or -1); prev*[v] = largest allowed <= v (or -1).
  // One extra slot past the maximum holds -1, so a carry can read it (month 13 after December).
  readonly nextSecond: Int8Array;
  readonly prevSecond: Int8Array;
  readonly nextMinute: Int8Array;
  readonly prevMinute: Int8Array;
  readonly nextHour: Int8Array;
  readonly prevHour: Int8Array;
  readonly nextMonth: Int8Array;
  readonly prevMonth: Int8Array;
  readonly firstMonth: number;
  readonly lastMonth: number;
  /** Matching days of a month as bits (day d = bit d-1), by weekday of the 1st and length (28-31). */
  readonly dayMasks: Int32Array;

  constructor(p: ParsedCron) {
    // Tables are shared through the parsed fields when there are any: small typed
    // arrays are costly to allocate and collect by the hundred thousand.
    const ex = (p as WithExpanded)[EXPANDED];
    const tables = (i: number, values: readonly number[], size: number) =>
      ex ? (ex[i].tables ??= valueTables(values, size)) : valueTables(values, size);
    [this.nextSecond, this.prevSecond] = tables(0, p.second, 60);
    [this.nextMinute, this.prevMinute] = tables(1, p.minute, 60);
    [this.nextHour, this.prevHour] = tables(2, p.hour, 24);
    [this.nextMonth, this.prevMonth] = tables(4, p.month, 13);
    this.firstMonth = this.nextMonth[1];
    this.lastMonth = this.prevMonth[12];
    const and = p.domStar || p.dowStar;
    this.dayMasks = ex ? remember(dayMaskCache, `${ex[3].key}|${ex[5].key}|${and}`, () => dayMasks(p)) : dayMasks(p);
  }

  /** Smallest matching local time in [from, limit], or null. */
  nextLocal(from: number, limit: number): number | null {
    return nextLocal(this, from, limit);
  }

  /** Largest matching local time in [limit, from], or null. */
  prevLocal(from: number, limit: number): number | null {
    return prevLocal(this, from, limit);
  }

  /**
   * Whether any day ever matches. 2001-2028 is a full 28-year cycle (every month length
   * starts on every weekday), so what never matches there never matches at all.
   */
  firesEver(): boolean {
    for (let y = 2001; y <= 2028; y++) {
      for (let mo = this.firstMonth; mo >= 0 && mo <= 12; mo = this.nextMonth[mo + 1]) {
        const first = daysFromCivil(y, mo, 1);
        if (this.dayMasks[weekday(first) * 4 + daysInMonth(y, mo) - 28] !== 0) return true;
      }
    }
    return false;
  }
}

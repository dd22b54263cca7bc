// Cron expressions: parseCron validates one (5 or 6 fields, or a macro) with messages that
// name the field and its allowed range, and expands it into a ParsedCron; cronMatcher
// gives the matcher that searches its wall-clock times. The roles live beside this file:
// cron-fields.ts (the grammar of a field), cron-expand.ts (expansion, through cron-parser
// for `L` and `#`, and the caches), cron-tables.ts (the matcher's look-up tables).
//
// Semantics are Vixie cron's (as Debian ships it), which differ from cron-parser's own
// iteration: day-of-month and day-of-week combine with OR only when neither field starts
// with `*` (cron-parser also treats `*/2` as restricted), overlapping list items are
// fine (`1-5,3`, `0,7`; cron-parser rejects duplicates), and `5/15` is refused as in
// Vixie (cron-parser reads it as 5-59/15).

import { usageError } from '../errors.js';
import { echo, quote } from '../escape.js';
import { EXPANDED, fieldOf, remember, type Expanded, type WithExpanded } from './cron-expand.js';
import type { Fail } from './cron-fields.js';
import { civilFromDays, DAY_MS, daysFromCivil, daysInMonth, weekday } from './calendar.js';
import { dayMasks, valueTables } from './cron-tables.js';

export const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export interface ParsedCron {
  /** The expression as written (trimmed). */
  expr: string;
  /** The six field texts, seconds first (`0` when written with five fields). */
  fields: readonly string[];
  /** The hour field names hours (does not start with `*`): DST gaps and repeats follow the wall clock. */
  wallClock: boolean;
  second: readonly number[];
  minute: readonly number[];
  hour: readonly number[];
  month: readonly number[];
  dayOfMonth: readonly number[];
  /** `L` in day-of-month: the last day of the month. */
  lastDayOfMonth: boolean;
  /** 0 = Sunday; 7 is folded into 0. */
  dayOfWeek: readonly number[];
  /** `5L`: the last Friday of the month. */
  lastDayOfWeek: readonly number[];
  /** `5#3`: only the 3rd such weekday of the month (0 = no such constraint). */
  nthDayOfWeek: number;
  /** Vixie's DOM_STAR / DOW_STAR: the field text starts with `*`. */
  domStar: boolean;
  dowStar: boolean;
}

const parsed = new Map<string, ParsedCron>();

/** Validates a cron expression (5 or 6 fields, or a macro) and expands it; throws a usage error. */
export function parseCron(expr: string): ParsedCron {
  const text = expr.trim();
  const cached = parsed.get(text);
  if (cached) return cached;
  const fail: Fail = (message) => {
    throw usageError(`cron ${quote(text)}: ${message}`);
  };
  const fields = splitFields(text, fail);
  const result = assemble(text, fields, fields.map((field, i) => fieldOf(i, field, fail)));
  if (!cronMatcher(result).firesEver()) throw usageError(`cron ${quote(text)} never fires`);
  return remember(parsed, text, () => result);
}

// Kept on the parsed object itself: a WeakMap over 100,000 parsed expressions costs
// more in garbage collection than building the matchers.
const MATCHER = Symbol('matcher');

/** The matcher of a parsed expression, built once. */
export function cronMatcher(p: ParsedCron): CronMatcher {
  const holder = p as ParsedCron & { [MATCHER]?: CronMatcher };
  return (holder[MATCHER] ??= new CronMatcher(p));
}

/** True when the expression's hour field names specific hours (see ParsedCron.wallClock). */
export function isWallClock(expr: string): boolean {
  return parseCron(expr).wallClock;
}

function splitFields(text: string, fail: Fail): string[] {
  let body = text;
  if (text.startsWith('@')) {
    const macro = MACROS[text.toLowerCase()];
    if (!macro) {
      fail(`unknown macro ${echo(text)}: use one of ${Object.keys(MACROS).join(' ')}, or an every schedule for a fixed interval`);
    }
    body = macro;
  }
  const parts = body === '' ? [] : body.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    fail(`expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got ${parts.length}`);
  }
  return parts.length === 6 ? parts : ['0', ...parts];
}

function assemble(text: string, fields: string[], expanded: Expanded[]): ParsedCron {
  const [second, minute, hour, dom, month, dow] = expanded;
  const result: ParsedCron = {
    expr: text,
    fields,
    wallClock: !fields[2].startsWith('*'),
    second: second.numbers,
    minute: minute.numbers,
    hour: hour.numbers,
    month: month.numbers,
    dayOfMonth: dom.numbers,
    lastDayOfMonth: dom.last.length > 0,
    dayOfWeek: dow.numbers,
    lastDayOfWeek: dow.last,
    nthDayOfWeek: dow.nth,
    domStar: fields[3].startsWith('*'),
    dowStar: fields[5].startsWith('*'),
  };
  Object.defineProperty(result, EXPANDED, { value: expanded });
  return result;
}

/** Scratch space for civilFromDays; the matcher is synchronous, so one buffer serves all. */
const YMD = new Int32Array(3);

/**
 * Finds matching wall-clock times. Local times are encoded as milliseconds in the UTC
 * calendar (2026-03-08 02:30 local = Date.UTC(2026, 2, 8, 2, 30)).
 */
export class CronMatcher {
  // next*[v] = smallest allowed value >= v (or -1); prev*[v] = largest allowed <= v (or -1).
  // One extra slot past the maximum absorbs a carry (minute 60, hour 24, month 13).
  private readonly nextSecond: Int8Array;
  private readonly prevSecond: Int8Array;
  private readonly nextMinute: Int8Array;
  private readonly prevMinute: Int8Array;
  private readonly nextHour: Int8Array;
  private readonly prevHour: Int8Array;
  private readonly nextMonth: Int8Array;
  private readonly prevMonth: Int8Array;
  private readonly firstMonth: number;
  private readonly lastMonth: number;
  /** Matching days of a month as bits (day d = bit d-1), by weekday of the 1st and length (28-31). */
  private readonly dayMasks: Int32Array;

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
    const t = Math.ceil(from / 1000) * 1000;
    if (t > limit) return null;
    const limitDay = Math.floor(limit / DAY_MS);
    const startDay = Math.floor(t / DAY_MS);
    const sod = (t - startDay * DAY_MS) / 1000;
    civilFromDays(startDay, YMD);
    let y = YMD[0];
    let mo = YMD[1];
    let d = YMD[2];
    let h = Math.floor(sod / 3600);
    let mi = Math.floor(sod / 60) % 60;
    let s = sod % 60;
    for (;;) {
      const nmo = this.nextMonth[mo];
      if (nmo !== mo) {
        if (nmo < 0) {
          y++;
          mo = this.firstMonth;
        } else {
          mo = nmo;
        }
        d = 1;
        h = mi = s = 0;
      }
      const first = daysFromCivil(y, mo, 1);
      if (first > limitDay) return null;
      const length = daysInMonth(y, mo);
      const bits = d > length ? 0 : this.dayMasks[weekday(first) * 4 + length - 28] & (-1 << (d - 1));
      if (bits === 0) {
        mo++;
        d = 1;
        h = mi = s = 0;
        continue;
      }
      const nd = 32 - Math.clz32(bits & -bits);
      if (nd !== d) {
        d = nd;
        h = mi = s = 0;
      }
      const day = first + d - 1;
      if (day > limitDay) return null;
      const nh = this.nextHour[h];
      if (nh < 0) {
        d++;
        h = mi = s = 0;
        continue;
      }
      if (nh !== h) {
        h = nh;
        mi = s = 0;
      }
      const nmi = this.nextMinute[mi];
      if (nmi < 0) {
        h++;
        mi = s = 0;
        continue;
      }
      if (nmi !== mi) {
        mi = nmi;
        s = 0;
      }
      const ns = this.nextSecond[s];
      if (ns < 0) {
        mi++;
        s = 0;
        continue;
      }
      const r = day * DAY_MS + (h * 3600 + mi * 60 + ns) * 1000;
      return r <= limit ? r : null;
    }
  }

  /** Largest matching local time in [limit, from], or null. */
  prevLocal(from: number, limit: number): number | null {
    const t = Math.floor(from / 1000) * 1000;
    if (t < limit) return null;
    const limitDay = Math.floor(limit / DAY_MS);
    const startDay = Math.floor(t / DAY_MS);
    const sod = (t - startDay * DAY_MS) / 1000;
    civilFromDays(startDay, YMD);
    let y = YMD[0];
    let mo = YMD[1];
    let d = YMD[2];
    let h = Math.floor(sod / 3600);
    let mi = Math.floor(sod / 60) % 60;
    let s = sod % 60;
    for (;;) {
      const pmo = this.prevMonth[mo];
      if (pmo !== mo) {
        if (pmo < 0) {
          y--;
          mo = this.lastMonth;
        } else {
          mo = pmo;
        }
        d = 31;
        h = 23;
        mi = s = 59;
      }
      const first = daysFromCivil(y, mo, 1);
      const length = daysInMonth(y, mo);
      if (first + length - 1 < limitDay) return null;
      if (d > length) d = length;
      const bits = d < 1 ? 0 : this.dayMasks[weekday(first) * 4 + length - 28] & (d >= 31 ? -1 : (1 << d) - 1);
      if (bits === 0) {
        mo--;
        d = 31;
        h = 23;
        mi = s = 59;
        continue;
      }
      const nd = 32 - Math.clz32(bits);
      if (nd !== d) {
        d = nd;
        h = 23;
        mi = s = 59;
      }
      const day = first + d - 1;
      if (day < limitDay) return null;
      const ph = this.prevHour[h];
      if (ph < 0) {
        d--;
        h = 23;
        mi = s = 59;
        continue;
      }
      if (ph !== h) {
        h = ph;
        mi = s = 59;
      }
      const pmi = this.prevMinute[mi];
      if (pmi < 0) {
        mi = s = 59;
        if (h === 0) {
          d--;
          h = 23;
        } else {
          h--;
        }
        continue;
      }
      if (pmi !== mi) {
        mi = pmi;
        s = 59;
      }
      const ps = this.prevSecond[s];
      if (ps < 0) {
        s = 59;
        if (mi > 0) {
          mi--;
        } else {
          mi = 59;
          if (h === 0) {
            d--;
            h = 23;
          } else {
            h--;
          }
        }
        continue;
      }
      const r = day * DAY_MS + (h * 3600 + mi * 60 + ps) * 1000;
      return r >= limit ? r : null;
    }
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

const dayMaskCache = new Map<string, Int32Array>();

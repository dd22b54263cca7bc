// Cron expressions: validation whose messages name the field and its allowed range,
// expansion through cron-parser, and a matcher that finds the next or previous matching
// wall-clock time with a few table look-ups. It knows nothing of time zones: zoned.ts
// turns wall-clock matches into instants under the DST rules of SPEC §2.
//
// Semantics are Vixie cron's (as Debian ships it), which differ from cron-parser's own
// iteration: day-of-month and day-of-week combine with OR only when neither field starts
// with `*` (cron-parser also treats `*/2` as restricted), overlapping list items are
// fine (`1-5,3`, `0,7`; cron-parser rejects duplicates), and `5/15` is refused as in
// Vixie (cron-parser reads it as 5-59/15).

import { CronExpressionParser } from 'cron-parser';
import { usageError } from '../errors.js';
import { civilFromDays, DAY_MS, daysFromCivil, daysInMonth, weekday } from './calendar.js';

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

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  /** Step values may go up to the number of values in the field. */
  span: number;
  names?: readonly string[];
  /** Index of names[0]. */
  nameBase?: number;
  hint: string;
  kind: 'plain' | 'dom' | 'dow';
}

const SPECS: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59, span: 60, hint: '', kind: 'plain' },
  { name: 'minute', min: 0, max: 59, span: 60, hint: '', kind: 'plain' },
  { name: 'hour', min: 0, max: 23, span: 24, hint: '', kind: 'plain' },
  { name: 'day-of-month', min: 1, max: 31, span: 31, hint: '', kind: 'dom' },
  {
    name: 'month',
    min: 1,
    max: 12,
    span: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
    nameBase: 1,
    hint: ' (or JAN-DEC)',
    kind: 'plain',
  },
  {
    name: 'day-of-week',
    min: 0,
    max: 7,
    span: 7,
    names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
    nameBase: 0,
    hint: ' (or SUN-SAT)',
    kind: 'dow',
  },
];

interface FieldValues {
  values: Set<number>;
  last: boolean;
  lastDays: Set<number>;
  nth: number;
}

type Fail = (message: string) => never;

const parsed = new Map<string, ParsedCron>();
const PARSED_CACHE_LIMIT = 10_000;

/** Validates a cron expression (5 or 6 fields, or a macro) and expands it; throws a usage error. */
export function parseCron(expr: string): ParsedCron {
  const text = expr.trim();
  const cached = parsed.get(text);
  if (cached) return cached;
  const fail: Fail = (message) => {
    throw usageError(`cron "${text}": ${message}`);
  };
  const fields = splitFields(text, fail);
  const values = fields.map((field, i) => parseField(SPECS[i], field, fail));
  const result = expandWithCronParser(text, fields, values, fail);
  if (!new CronMatcher(result).firesEver()) throw usageError(`cron "${text}" never fires`);
  if (parsed.size >= PARSED_CACHE_LIMIT) parsed.clear();
  parsed.set(text, result);
  return result;
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
      fail(`unknown macro ${text}: use one of ${Object.keys(MACROS).join(' ')}, or an every schedule for a fixed interval`);
    }
    body = macro;
  }
  const parts = body === '' ? [] : body.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    fail(`expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got ${parts.length}`);
  }
  return parts.length === 6 ? parts : ['0', ...parts];
}

function parseField(spec: FieldSpec, text: string, fail: Fail): FieldValues {
  const out: FieldValues = { values: new Set(), last: false, lastDays: new Set(), nth: 0 };
  if (spec.kind === 'dow' && text.includes('#')) {
    parseNth(spec, text, out, fail);
    return out;
  }
  for (const item of text.split(',')) {
    if (item === '') fail(`${spec.name} "${text}" has an empty list item`);
    parseItem(spec, item, out, fail);
  }
  return out;
}

function parseItem(spec: FieldSpec, item: string, out: FieldValues, fail: Fail): void {
  const upper = item.toUpperCase();
  if (item === '?') fail(`${spec.name} "?" is not supported: use *`);
  if (spec.kind === 'dom' && upper === 'L') {
    out.last = true;
    return;
  }
  if (spec.kind === 'dom' && /^(\d+|L)W$/.test(upper)) {
    fail(`day-of-month "${item}" uses W (nearest weekday), which tock does not support`);
  }
  if (spec.kind === 'dow' && upper === 'L') {
    fail(`day-of-week "L" needs a day before it: write e.g. 5L or FRIL for the last Friday of the month`);
  }
  if (spec.kind === 'dow' && /^\w+L$/.test(upper) && !upper.includes('-')) {
    out.lastDays.add(readValue(spec, item.slice(0, -1), item, fail) % 7);
    return;
  }
  const slash = item.indexOf('/');
  const base = slash < 0 ? item : item.slice(0, slash);
  const step = slash < 0 ? 1 : readStep(spec, item.slice(slash + 1), item, fail);
  let lo = spec.min;
  let hi = spec.max;
  if (base !== '*') {
    const dash = base.indexOf('-');
    if (dash < 0) {
      lo = hi = readValue(spec, base, item, fail);
      if (slash >= 0) {
        fail(`${spec.name} "${item}" has a step without a range: write ${base}-${spec.max}/${step}, or */${step}`);
      }
    } else {
      lo = readValue(spec, base.slice(0, dash), item, fail);
      hi = readValue(spec, base.slice(dash + 1), item, fail);
      if (lo > hi) {
        fail(`${spec.name} range ${base} is backwards: split it, e.g. ${lo}-${spec.max},${spec.min}-${hi}`);
      }
    }
  }
  for (let v = lo; v <= hi; v += step) out.values.add(spec.kind === 'dow' ? v % 7 : v);
}

function parseNth(spec: FieldSpec, text: string, out: FieldValues, fail: Fail): void {
  const m = /^([^#,/-]+)#(\d+)$/.exec(text);
  if (!m) fail(`day-of-week "${text}": # takes one day and cannot be combined with a list, range or step (e.g. FRI#3)`);
  const day = readValue(spec, m[1], text, fail);
  const nth = Number(m[2]);
  if (nth < 1 || nth > 5) fail(`day-of-week "${text}": occurrence ${nth} is out of range 1-5`);
  out.values.add(day % 7);
  out.nth = nth;
}

function readValue(spec: FieldSpec, token: string, item: string, fail: Fail): number {
  if (/^\d+$/.test(token)) {
    const v = Number(token);
    if (v < spec.min || v > spec.max) fail(`${spec.name} ${v} is out of range ${spec.min}-${spec.max}${spec.hint}`);
    return v;
  }
  const index = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  if (index >= 0) return index + (spec.nameBase ?? 0);
  return fail(`${spec.name} "${item}" is not understood: ${usage(spec)}`);
}

function readStep(spec: FieldSpec, token: string, item: string, fail: Fail): number {
  if (!/^\d+$/.test(token)) fail(`${spec.name} step "${token}" in "${item}" is not a number`);
  const step = Number(token);
  if (step < 1) fail(`${spec.name} step ${step} must be at least 1`);
  if (step > spec.span) fail(`${spec.name} step ${step} is out of range 1-${spec.span}`);
  return step;
}

function usage(spec: FieldSpec): string {
  const extra =
    spec.kind === 'dom'
      ? ', or L for the last day'
      : spec.kind === 'dow'
        ? ', nL for the last such day of the month, or n#k for the k-th (e.g. FRI#3)'
        : '';
  return `use ${spec.min}-${spec.max}${spec.hint}, a range (a-b), a step (*/n or a-b/n), a comma-separated list of those${extra}`;
}

/**
 * Hands cron-parser the expression in canonical form (explicit value lists, no names, no
 * duplicates) and reads its expanded fields, so `L` and `#` mean exactly what cron-parser
 * means by them.
 */
function expandWithCronParser(text: string, fields: string[], values: FieldValues[], fail: Fail): ParsedCron {
  const canonical = fields.map((field, i) => canonicalField(field, values[i])).join(' ');
  let cp;
  try {
    cp = CronExpressionParser.parse(canonical).fields;
  } catch (err) {
    // cron-parser's own check for e.g. `0 0 30 2 *`.
    if (/explicit day of month/i.test((err as Error).message)) throw usageError(`cron "${text}" never fires`);
    return fail(`${(err as Error).message} (from cron-parser, reading "${canonical}")`);
  }
  const numbers = (list: readonly (number | string)[]) => list.filter((v): v is number => typeof v === 'number');
  const lastDays = (cp.dayOfWeek.values as readonly (number | string)[])
    .filter((v): v is string => typeof v === 'string' && v.endsWith('L'))
    .map((v) => Number(v.slice(0, -1)) % 7);
  return {
    expr: text,
    fields,
    wallClock: !fields[2].startsWith('*'),
    second: numbers(cp.second.values),
    minute: numbers(cp.minute.values),
    hour: numbers(cp.hour.values),
    month: numbers(cp.month.values),
    dayOfMonth: numbers(cp.dayOfMonth.values),
    lastDayOfMonth: (cp.dayOfMonth.values as readonly (number | string)[]).includes('L'),
    dayOfWeek: [...new Set(numbers(cp.dayOfWeek.values).map((v) => v % 7))],
    lastDayOfWeek: lastDays,
    nthDayOfWeek: cp.dayOfWeek.nthDay,
    domStar: fields[3].startsWith('*'),
    dowStar: fields[5].startsWith('*'),
  };
}

function canonicalField(text: string, v: FieldValues): string {
  if (text === '*') return '*';
  const items: string[] = [...v.values].sort((a, b) => a - b).map(String);
  if (v.nth > 0) return `${items[0]}#${v.nth}`;
  if (v.last) items.push('L');
  for (const day of [...v.lastDays].sort()) items.push(`${day}L`);
  return items.join(',');
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
  private readonly dayMasks = new Int32Array(7 * 4);

  constructor(p: ParsedCron) {
    this.nextSecond = forward(p.second, 60);
    this.prevSecond = backward(p.second, 60);
    this.nextMinute = forward(p.minute, 60);
    this.prevMinute = backward(p.minute, 60);
    this.nextHour = forward(p.hour, 24);
    this.prevHour = backward(p.hour, 24);
    this.nextMonth = forward(p.month, 13);
    this.prevMonth = backward(p.month, 13);
    this.firstMonth = this.nextMonth[1];
    this.lastMonth = this.prevMonth[12];
    for (let first = 0; first < 7; first++) {
      for (let length = 28; length <= 31; length++) {
        this.dayMasks[first * 4 + length - 28] = dayMask(p, first, length);
      }
    }
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

function has(values: readonly number[], size: number): boolean[] {
  const set = new Array<boolean>(size).fill(false);
  for (const v of values) set[v] = true;
  return set;
}

function forward(values: readonly number[], size: number): Int8Array {
  const set = has(values, size);
  const table = new Int8Array(size + 1).fill(-1);
  for (let v = size - 1, next = -1; v >= 0; v--) {
    if (set[v]) next = v;
    table[v] = next;
  }
  return table;
}

function backward(values: readonly number[], size: number): Int8Array {
  const set = has(values, size);
  const table = new Int8Array(size + 1).fill(-1);
  for (let v = 0, prev = -1; v <= size; v++) {
    if (set[v]) prev = v;
    table[v] = prev;
  }
  return table;
}

/** Vixie's day rule for one month shape: OR when both fields are restricted, AND otherwise. */
function dayMask(p: ParsedCron, firstWeekday: number, length: number): number {
  let dom = 0;
  let dow = 0;
  const weekdays = has(p.dayOfWeek, 7);
  const lastWeekdays = has(p.lastDayOfWeek, 7);
  for (const d of p.dayOfMonth) if (d <= length) dom |= 1 << (d - 1);
  if (p.lastDayOfMonth) dom |= 1 << (length - 1);
  for (let d = 1; d <= length; d++) {
    const w = (firstWeekday + d - 1) % 7;
    const nthOk = p.nthDayOfWeek === 0 || Math.ceil(d / 7) === p.nthDayOfWeek;
    if ((weekdays[w] && nthOk) || (lastWeekdays[w] && d + 7 > length)) dow |= 1 << (d - 1);
  }
  return p.domStar || p.dowStar ? dom & dow : dom | dow;
}

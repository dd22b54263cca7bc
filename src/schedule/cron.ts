// Cron expressions: validation whose messages name the field and its allowed range,
// expansion (through cron-parser for `L` and `#`), and a matcher that finds the next or previous matching
// wall-clock time with a few table look-ups. It knows nothing of time zones: zoned.ts
// turns wall-clock matches into instants under the DST rules of SPEC §2.
//
// Semantics are Vixie cron's (as Debian ships it), which differ from cron-parser's own
// iteration: day-of-month and day-of-week combine with OR only when neither field starts
// with `*` (cron-parser also treats `*/2` as restricted), overlapping list items are
// fine (`1-5,3`, `0,7`; cron-parser rejects duplicates), and `5/15` is refused as in
// Vixie (cron-parser reads it as 5-59/15).

import { createRequire } from 'node:module';
import type * as CronParser from 'cron-parser';
import { usageError } from '../errors.js';
import { echo, quote } from '../escape.js';
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

// Caches are bounded; across thousands of jobs the same expressions and fields recur.
const CACHE_LIMIT = 10_000;
const parsed = new Map<string, ParsedCron>();

function remember<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let found = cache.get(key);
  if (found === undefined) {
    found = make();
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, found);
  }
  return found;
}

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

function parseField(spec: FieldSpec, text: string, fail: Fail): FieldValues {
  const out: FieldValues = { values: new Set(), last: false, lastDays: new Set(), nth: 0 };
  if (spec.kind === 'dow' && text.includes('#')) {
    parseNth(spec, text, out, fail);
    return out;
  }
  for (const item of text.split(',')) {
    if (item === '') fail(`${spec.name} ${quote(text)} has an empty list item`);
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
    fail(`day-of-month ${quote(item)} uses W (nearest weekday), which tock does not support`);
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
        fail(`${spec.name} ${quote(item)} has a step without a range: write ${echo(base)}-${spec.max}/${step}, or */${step}`);
      }
    } else {
      lo = readValue(spec, base.slice(0, dash), item, fail);
      hi = readValue(spec, base.slice(dash + 1), item, fail);
      if (lo > hi) {
        fail(`${spec.name} range ${echo(base)} is backwards: split it, e.g. ${lo}-${spec.max},${spec.min}-${hi}`);
      }
    }
  }
  for (let v = lo; v <= hi; v += step) out.values.add(spec.kind === 'dow' ? v % 7 : v);
}

function parseNth(spec: FieldSpec, text: string, out: FieldValues, fail: Fail): void {
  const m = /^([^#,/-]+)#(\d+)$/.exec(text);
  if (!m) fail(`day-of-week ${quote(text)}: # takes one day and cannot be combined with a list, range or step (e.g. FRI#3)`);
  const day = readValue(spec, m[1], text, fail);
  const nth = Number(m[2]);
  if (nth < 1 || nth > 5) fail(`day-of-week ${quote(text)}: occurrence ${nth} is out of range 1-5`);
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
  return fail(`${spec.name} ${quote(item)} is not understood: ${usage(spec)}`);
}

function readStep(spec: FieldSpec, token: string, item: string, fail: Fail): number {
  if (!/^\d+$/.test(token)) fail(`${spec.name} step ${quote(token)} in ${quote(item)} is not a number`);
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

/** One field expanded (see expandField), and the matcher tables derived from it. */
interface Expanded {
  /** Field index and canonical text: equal keys, equal fields. */
  key: string;
  /** Plain values; day-of-week folded to 0-6. */
  numbers: readonly number[];
  /** `L` (day-of-month: [0]) or `nL` (day-of-week: the days n). */
  last: readonly number[];
  nth: number;
  tables?: readonly [Int8Array, Int8Array];
}

/** The Expanded fields behind a ParsedCron, kept off its enumerable shape. */
const EXPANDED = Symbol('expanded');
type WithExpanded = ParsedCron & { [EXPANDED]?: readonly Expanded[] };

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

const writtenFields = new Map<string, Expanded>();
const canonicalFields = new Map<string, Expanded>();

/** A field as written, validated and expanded; cached, as only valid fields get here. */
function fieldOf(index: number, text: string, fail: Fail): Expanded {
  const key = `${index} ${text}`;
  const known = writtenFields.get(key);
  if (known) return known;
  const values = parseField(SPECS[index], text, fail);
  const canonical = canonicalField(text, values);
  const expanded = remember(canonicalFields, `${index} ${canonical}`, () => expandField(index, canonical, values, fail));
  return remember(writtenFields, key, () => expanded);
}

const FIELD_KEYS = ['second', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'] as const;

/**
 * A field's expanded values. A field of plain values is its own expansion. One with `L`
 * or `#` goes to cron-parser in canonical form (explicit value lists, no names, no
 * duplicates), so `L` and `#` mean exactly what cron-parser means by them. One field at a
 * time: a parse costs ~30 µs, and fields recur across jobs far more than whole
 * expressions do.
 */
function expandField(index: number, canonical: string, v: FieldValues, fail: Fail): Expanded {
  const key = `${index} ${canonical}`;
  if (!v.last && v.lastDays.size === 0 && v.nth === 0) {
    return { key, numbers: [...v.values].sort((a, b) => a - b), last: [], nth: 0 };
  }
  const template = ['*', '*', '*', '*', '*', '*'];
  template[index] = canonical;
  let cp;
  try {
    cp = cronParser().CronExpressionParser.parse(template.join(' ')).fields;
  } catch (err) {
    return fail(`${SPECS[index].name} "${canonical}": ${(err as Error).message} (from cron-parser)`);
  }
  const all = cp[FIELD_KEYS[index]].values as readonly (number | string)[];
  const dow = index === 5;
  const numbers = all.filter((v): v is number => typeof v === 'number').map((v) => (dow ? v % 7 : v));
  const last = all
    .filter((v): v is string => typeof v === 'string' && v.endsWith('L'))
    .map((v) => (v === 'L' ? 0 : Number(v.slice(0, -1)) % 7));
  return { key, numbers: [...new Set(numbers)], last, nth: dow ? cp.dayOfWeek.nthDay : 0 };
}

let parser: typeof CronParser | undefined;

/** cron-parser, loaded on first need: most schedules never need it, and it costs ~10 ms to load. */
function cronParser(): typeof CronParser {
  return (parser ??= createRequire(import.meta.url)('cron-parser') as typeof CronParser);
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

/** [next, prev] tables of a field whose values lie in [0, size). */
function valueTables(values: readonly number[], size: number): readonly [Int8Array, Int8Array] {
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
function dayMasks(p: ParsedCron): Int32Array {
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

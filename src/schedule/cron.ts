// Cron expressions: parseCron validates one (5 or 6 fields, or a macro) with messages that
// name the field and its allowed range, and expands it into a ParsedCron; cronMatcher
// gives the matcher that searches its wall-clock times. The roles live beside this file:
// cron-fields.ts (the grammar of a field), cron-expand.ts (expansion, through cron-parser
// for `L` and `#`, and the caches), cron-matcher.ts, cron-tables.ts and cron-search.ts (the
// matcher, its look-up tables and its search).
//
// Semantics are Vixie cron's (as Debian ships it), which differ from cron-parser's own
// iteration: day-of-month and day-of-week combine with OR only when neither field starts
// with `*` (cron-parser also treats `*/2` as restricted), overlapping list items are
// fine (`1-5,3`, `0,7`; cron-parser rejects duplicates), and `5/15` is refused as in
// Vixie (cron-parser reads it as 5-59/15).

import { usageError } from '../errors.js';
import { echo, quote } from '../escape.js';
import { EXPANDED, fieldOf, remember, type Expanded } from './cron-expand.js';
import type { Fail } from './cron-fields.js';
import { CronMatcher } from './cron-matcher.js';

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

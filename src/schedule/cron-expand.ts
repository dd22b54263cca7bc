// One cron field, validated and expanded to the values it matches, cached by its text and
// by its canonical form: across thousands of jobs the same fields recur far more often
// than whole expressions. A field with `L` or `#` is expanded by cron-parser, so those
// mean exactly what cron-parser means by them; plain fields never load it.

import { createRequire } from 'node:module';
import type * as CronParser from 'cron-parser';
import { parseField, SPECS, type Fail, type FieldValues } from './cron-fields.js';
import type { ParsedCron } from './cron.js';

/** One field expanded (see expandField), and the matcher tables derived from it. */
export interface Expanded {
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
export const EXPANDED = Symbol('expanded');
export type WithExpanded = ParsedCron & { [EXPANDED]?: readonly Expanded[] };

// Caches are bounded; across thousands of jobs the same expressions and fields recur.
const CACHE_LIMIT = 10_000;

/** The cached value of `key`, made and remembered on first need. */
export function remember<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let found = cache.get(key);
  if (found === undefined) {
    found = make();
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, found);
  }
  return found;
}

const writtenFields = new Map<string, Expanded>();
const canonicalFields = new Map<string, Expanded>();

/** A field as written, validated and expanded; cached, as only valid fields get here. */
export function fieldOf(index: number, text: string, fail: Fail): Expanded {
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

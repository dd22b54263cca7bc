// The grammar of one cron field: each field's allowed range and names (JAN-DEC, SUN-SAT),
// and the reading of `*`, values, ranges, steps, lists, `L`, `nL` and `n#k` into a set of
// values. Every message names the field and what it allows. Vixie's rules where they
// differ from cron-parser's: overlapping list items are fine (`1-5,3`, `0,7`) and `5/15`
// is refused (cron-parser reads it as 5-59/15).

import { echo, quote } from '../escape.js';

export interface FieldSpec {
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

/** The six fields, seconds first. */
export const SPECS: readonly FieldSpec[] = [
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

export interface FieldValues {
  values: Set<number>;
  last: boolean;
  lastDays: Set<number>;
  nth: number;
}

/** Throws a usage error naming the whole expression; never returns. */
export type Fail = (message: string) => never;

/** Reads one field's text into its values; calls fail on anything it does not allow. */
export function parseField(spec: FieldSpec, text: string, fail: Fail): FieldValues {
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
  if (parseSpecial(spec, item, out, fail)) return;
  const slash = item.indexOf('/');
  const base = slash < 0 ? item : item.slice(0, slash);
  const step = slash < 0 ? 1 : readStep(spec, item.slice(slash + 1), item, fail);
  const [lo, hi] = base === '*' ? [spec.min, spec.max] : readRange(spec, base, item, slash >= 0 ? step : 0, fail);
  for (let v = lo; v <= hi; v += step) out.values.add(spec.kind === 'dow' ? v % 7 : v);
}

/** `?`, `W`, `L` and `nL`: true when the item was `L` or `nL` and has been taken; the others are refused. */
function parseSpecial(spec: FieldSpec, item: string, out: FieldValues, fail: Fail): boolean {
  const upper = item.toUpperCase();
  if (item === '?') fail(`${spec.name} "?" is not supported: use *`);
  if (spec.kind === 'dom' && upper === 'L') {
    out.last = true;
    return true;
  }
  if (spec.kind === 'dom' && /^(\d+|L)W$/.test(upper)) {
    fail(`day-of-month ${quote(item)} uses W (nearest weekday), which tock does not support`);
  }
  if (spec.kind === 'dow' && upper === 'L') {
    fail(`day-of-week "L" needs a day before it: write e.g. 5L or FRIL for the last Friday of the month`);
  }
  if (spec.kind === 'dow' && /^\w+L$/.test(upper) && !upper.includes('-')) {
    out.lastDays.add(readValue(spec, item.slice(0, -1), item, fail) % 7);
    return true;
  }
  return false;
}

/** `a` or `a-b` (before any `/step`; `step` is 0 when there is none) as [lo, hi]. */
function readRange(spec: FieldSpec, base: string, item: string, step: number, fail: Fail): [number, number] {
  const dash = base.indexOf('-');
  if (dash < 0) {
    const v = readValue(spec, base, item, fail);
    if (step > 0) fail(`${spec.name} ${quote(item)} has a step without a range: write ${echo(base)}-${spec.max}/${step}, or */${step}`);
    return [v, v];
  }
  const lo = readValue(spec, base.slice(0, dash), item, fail);
  const hi = readValue(spec, base.slice(dash + 1), item, fail);
  if (lo > hi) fail(`${spec.name} range ${echo(base)} is backwards: split it, e.g. ${lo}-${spec.max},${spec.min}-${hi}`);
  return [lo, hi];
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
